import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { KinesisEventSourceMapping, type KinesisMappingDependencies } from '#local/event-sources/kinesis-mapping.ts';
import type { KinesisEventSourceMappingConfig } from '#local/event-sources/kinesis-mapping-config.ts';
import { LocalLambdaFunction, type LambdaFunctionDefinition } from '#local/lambda/runtime.ts';
import { TEST_REGION, type KinesaliteHarness } from '#tests/support/kinesalite.ts';

/** What one invocation of a recording function received. */
export interface RecordedInvocation {
  requestId: string;
  context: Context;
  event: KinesisStreamEvent;
  records: KinesisStreamRecord[];
  sequenceNumbers: string[];
}

export type BatchBehaviour = (event: KinesisStreamEvent, context: Context, invocationIndex: number) => unknown;

/** A function that records every invocation, then behaves as the test says (return, throw, hang). */
export function recordingFunction(
  functionName: string,
  behaviour: BatchBehaviour = () => undefined,
  definition: Partial<LambdaFunctionDefinition> = {},
): { fn: LocalLambdaFunction<KinesisStreamEvent>; invocations: RecordedInvocation[]; sequenceNumbers: () => string[] } {
  const invocations: RecordedInvocation[] = [];
  const fn = new LocalLambdaFunction<KinesisStreamEvent>({
    functionName,
    region: TEST_REGION,
    timeoutSeconds: 5,
    ...definition,
    handler: async (event: KinesisStreamEvent, context: Context) => {
      const index = invocations.length;
      invocations.push({
        requestId: context.awsRequestId,
        context,
        event,
        records: event.Records,
        sequenceNumbers: event.Records.map((record) => record.kinesis.sequenceNumber),
      });
      return behaviour(event, context, index);
    },
  });
  return { fn, invocations, sequenceNumbers: () => invocations.flatMap((invocation) => invocation.sequenceNumbers) };
}

/** Creates mappings against one kinesalite and guarantees they are stopped and their data removed. */
export class MappingFixture {
  private readonly mappings: KinesisEventSourceMapping[] = [];
  private readonly directories: string[] = [];

  constructor(private readonly kinesis: KinesaliteHarness) {}

  async dataDir(): Promise<string> {
    const directory = await mkdtemp(path.join(tmpdir(), 'rotor-esm-'));
    this.directories.push(directory);
    return directory;
  }

  async start(
    config: KinesisEventSourceMappingConfig,
    fn: LocalLambdaFunction<KinesisStreamEvent>,
    dependencies: Partial<KinesisMappingDependencies> = {},
  ): Promise<KinesisEventSourceMapping> {
    const mapping = new KinesisEventSourceMapping(config, {
      kinesis: this.kinesis.client,
      fn,
      dataDir: dependencies.dataDir ?? (await this.dataDir()),
      pollIntervalMs: 25,
      retryBackoff: { initialMs: 10, maxMs: 50 },
      log: { warn: () => {}, error: () => {} },
      ...dependencies,
    });
    this.mappings.push(mapping);
    await mapping.start();
    return mapping;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.mappings.splice(0).map((mapping) => mapping.stop()));
    await Promise.all(this.directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
  }
}

let streamCounter = 0;
export function uniqueStreamName(purpose: string): string {
  streamCounter += 1;
  return `${purpose}-${process.pid}-${streamCounter}`;
}

export function bySequence(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference < 0n ? -1 : difference > 0n ? 1 : 0;
}
