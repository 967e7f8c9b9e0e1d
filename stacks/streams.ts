import type { StagePlan } from './plan/index.ts';
import { logicalName } from './names.ts';

/** Kinesis streams: regional, provisioned with the manifest's shards and retention, encrypted. */
export function createStreams(plan: StagePlan) {
  return plan.streams.map((stream) => new aws.kinesis.Stream(logicalName('Stream', stream.manifest), stream.args));
}
