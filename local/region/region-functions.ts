import { access } from 'node:fs/promises';
import path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisEventSourceMapping } from '#local/event-sources/kinesis-mapping.ts';
import { jsonLinesLogger } from '#local/event-sources/mapping-logger.ts';
import { MqEventSourceMapping } from '#local/event-sources/mq-mapping.ts';
import type { OnFailureDestination } from '#local/event-sources/on-failure-destination.ts';
import type { StreamActivity } from '#local/event-sources/stream-activity.ts';
import { parseHandlerReference } from '#local/lambda/handler-loader.ts';
import { LocalLambdaFunction, type InvocationFaults } from '#local/lambda/runtime.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import type { FunctionSpec, Topology } from '#shared/topology/schema.ts';
import { kinesisMappingSettings } from '#shared/topology/triggers.ts';
import { BrokerOnFailureDestination } from '#local/region/broker-on-failure-destination.ts';
import { functionEnvironment, regionQueueName, type RegionEndpoints, type RegionResources } from '#local/region/function-environment.ts';

/** The functions of the manifest a region can run, and the event-source mappings that feed them. */

export interface SkippedFunction {
  readonly name: string;
  readonly reason: string;
}

const HANDLER_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

async function handlerModuleExists(handler: string, codeRoot: string): Promise<boolean> {
  const { modulePath } = parseHandlerReference(handler);
  const base = path.resolve(codeRoot, modulePath);
  for (const candidate of path.extname(base) ? [base] : HANDLER_EXTENSIONS.map((extension) => base + extension)) {
    if (await access(candidate).then(() => true, () => false)) return true;
  }
  return false;
}

export interface RegionFunctionsOptions {
  readonly topology: Topology;
  readonly region: string;
  readonly codeRoot: string;
  readonly endpoints: RegionEndpoints;
  readonly resources: RegionResources;
  /** Chaos experiments' invocation faults (local/chaos); none when omitted. */
  readonly faults?: InvocationFaults;
}

export async function createRegionFunctions(options: RegionFunctionsOptions): Promise<{
  functions: Map<string, LocalLambdaFunction<unknown>>;
  skipped: SkippedFunction[];
}> {
  const functions = new Map<string, LocalLambdaFunction<unknown>>();
  const skipped: SkippedFunction[] = [];
  const present = await Promise.all(options.topology.functions.map((fn) => handlerModuleExists(fn.handler, options.codeRoot)));
  options.topology.functions.forEach((fn: FunctionSpec, index) => {
    if (!present[index]) {
      skipped.push({ name: fn.name, reason: `no handler module for ${fn.handler}` });
      return;
    }
    functions.set(fn.name, new LocalLambdaFunction<unknown>({
      functionName: fn.name,
      handler: fn.handler,
      region: options.region,
      codeRoot: options.codeRoot,
      timeoutSeconds: fn.timeoutSeconds,
      memorySizeMB: fn.memorySizeMB,
      environment: functionEnvironment(fn, options.endpoints, options.resources),
      ...(options.faults ? { faults: options.faults } : {}),
    }));
  });
  return { functions, skipped };
}

export interface RegionMappingsOptions {
  readonly topology: Topology;
  readonly functions: ReadonlyMap<string, LocalLambdaFunction<unknown>>;
  readonly kinesis: KinesisClient;
  readonly dataDir: string;
  /** The region's broker client: MQ triggers consume from it, and Kinesis on-failure destinations are its queues. */
  readonly broker: MessageBroker;
  /** Put before MQ trigger and on-failure queue names (a broker shared by several regions); '' for none. */
  readonly queuePrefix: string;
  readonly pollIntervalMs?: number | undefined;
  /** Rung by the region's kinesalite on every put, so caught-up shards wait for it instead of polling. */
  readonly streamActivity?: StreamActivity | undefined;
  readonly idlePollIntervalMs?: number | undefined;
  readonly retryBackoff?: { initialMs: number; maxMs: number } | undefined;
  /** Whether a routing control (manifest name) is On in this region: MQ triggers with `enabledBy` follow it. */
  readonly routing?: ((control: string) => Promise<boolean>) | undefined;
}

/**
 * One mapping per trigger of a function the region runs, configured straight from the manifest: Kinesis triggers
 * poll the region's kinesalite, MQ triggers consume the region's broker.
 */
export function createEventSourceMappings(options: RegionMappingsOptions): { kinesis: KinesisEventSourceMapping[]; mq: MqEventSourceMapping[] } {
  const mappings: KinesisEventSourceMapping[] = [];
  const mqMappings: MqEventSourceMapping[] = [];
  const destinations = new Map<string, OnFailureDestination>();
  const destination = (queue: string): OnFailureDestination => {
    let existing = destinations.get(queue);
    if (!existing) {
      existing = new BrokerOnFailureDestination(options.broker, regionQueueName(queue, options));
      destinations.set(queue, existing);
    }
    return existing;
  };
  for (const spec of options.topology.functions) {
    const fn = options.functions.get(spec.name);
    if (!fn) continue;
    for (const trigger of spec.triggers) {
      if (trigger.kind === 'mq') {
        const mappingId = `${trigger.queue}--${spec.name}`;
        mqMappings.push(new MqEventSourceMapping(
          { queue: regionQueueName(trigger.queue, options), batchSize: trigger.batchSize, maximumBatchingWindowInSeconds: trigger.maximumBatchingWindowInSeconds },
          {
            broker: options.broker,
            fn,
            mappingId,
            ...(options.retryBackoff === undefined ? {} : { retryBackoff: options.retryBackoff }),
            ...(trigger.enabledBy && options.routing ? { enabled: () => options.routing!(trigger.enabledBy!) } : {}),
            log: jsonLinesLogger(`esm:${mappingId}`),
          },
        ));
        continue;
      }
      const mappingId = `${trigger.stream}--${spec.name}`;
      mappings.push(new KinesisEventSourceMapping(
        {
          streamName: trigger.stream,
          ...kinesisMappingSettings(trigger),
          destinationConfig: { onFailure: destination(trigger.onFailure) },
        },
        {
          kinesis: options.kinesis,
          fn,
          dataDir: options.dataDir,
          mappingId,
          ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
          ...(options.streamActivity === undefined ? {} : { streamActivity: options.streamActivity }),
          ...(options.idlePollIntervalMs === undefined ? {} : { idlePollIntervalMs: options.idlePollIntervalMs }),
          ...(options.retryBackoff === undefined ? {} : { retryBackoff: options.retryBackoff }),
          log: jsonLinesLogger(`esm:${mappingId}`),
        },
      ));
    }
  }
  return { kinesis: mappings, mq: mqMappings };
}
