import type { StagePlan } from './plan/index.ts';
import { logicalName } from './names.ts';

/** SQS on-failure destinations of the Kinesis mappings: batches that ran out of retries, kept for replay. */
export function createFailureQueues(plan: StagePlan) {
  return plan.failureQueues.map((queue) => new aws.sqs.Queue(logicalName('Failures', queue.manifest), queue.args));
}
