import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { AppName, type Topology } from '#shared/topology/schema.ts';
import { appResources, type ResourceNames } from './app-resources.ts';

/**
 * Positive evidence that a region is drained, for the rotation workflow, which only moves an app once nothing it
 * accepted in the old region is left behind:
 *
 * - `queues`: every queue the app's inbound gateway consumes is empty on this region's broker (ready plus
 *   delivered-but-unacknowledged messages). A broker that cannot tell a depth counts as not drained.
 * - `watermark-write`: writes the item `watermark:<runId>` to every safe store of the app here, after the last
 *   write the stages made in this region (the workflow turns the region's controls Off first).
 * - `watermark-read`, in the other region: the watermark has arrived in every one of those safe stores. The twin
 *   ships each region's writes in write order, so there everything written before the watermark has arrived too.
 *   AWS global tables promise no order across items, so on AWS it is strong evidence rather than proof: the
 *   reconciliation that follows in the workflow finds and replays whatever still trails.
 *
 * A check that finds the region not drained throws `DrainNotCompleteError` (transient), which the workflow retries.
 * Results and errors name queues and tables as the manifest does.
 */

export const WATERMARK_ID_PREFIX = 'watermark:';

const RunId = z.string().min(1).max(200);

export const DrainCheckRequest = z.discriminatedUnion('check', [
  z.strictObject({ check: z.literal('queues'), app: AppName, runId: RunId }),
  z.strictObject({ check: z.literal('watermark-write'), app: AppName, runId: RunId }),
  z.strictObject({ check: z.literal('watermark-read'), app: AppName, runId: RunId }),
]);
export type DrainCheckRequest = z.infer<typeof DrainCheckRequest>;

export interface QueuesDrained {
  readonly check: 'queues';
  readonly app: AppName;
  readonly region: string;
  readonly drained: true;
  readonly depths: Record<string, number>;
}

export interface WatermarkWritten {
  readonly check: 'watermark-write';
  readonly app: AppName;
  readonly region: string;
  readonly watermark: string;
  readonly tables: string[];
}

export interface WatermarkArrived {
  readonly check: 'watermark-read';
  readonly app: AppName;
  readonly region: string;
  readonly drained: true;
  readonly tables: string[];
}

export type DrainCheckResult = QueuesDrained | WatermarkWritten | WatermarkArrived;

/** The item a watermark write leaves in a safe store. Readers of safe stores skip ids starting `watermark:`. */
export interface WatermarkItem {
  readonly id: string;
  readonly kind: 'watermark';
  readonly runId: string;
  readonly app: AppName;
  readonly region: string;
  readonly writtenAt: string;
}

/** The region is not drained yet: messages are still queued, or a watermark has not replicated everywhere. */
export class DrainNotCompleteError extends Error {
  override readonly name = 'DrainNotCompleteError';
  readonly transient = true;
  constructor(
    message: string,
    readonly details: { readonly depths?: Record<string, number | null>; readonly tablesWithoutWatermark?: readonly string[] },
  ) {
    super(message);
  }
}

export interface DrainCheckDependencies {
  readonly topology: Pick<Topology, 'functions' | 'tables' | 'databases' | 'queues'>;
  readonly names: ResourceNames;
  readonly region: string;
  readonly broker: Pick<MessageBroker, 'queueDepth'>;
  /** From `documentClient()`. */
  readonly documents: DynamoDBDocumentClient;
  readonly now?: () => Date;
}

export const watermarkId = (runId: string) => `${WATERMARK_ID_PREFIX}${runId}`;

export function isWatermarkId(id: unknown): boolean {
  return typeof id === 'string' && id.startsWith(WATERMARK_ID_PREFIX);
}

export async function drainCheck(request: DrainCheckRequest, deps: DrainCheckDependencies): Promise<DrainCheckResult> {
  switch (request.check) {
    case 'queues':
      return checkQueues(request, deps);
    case 'watermark-write':
      return writeWatermark(request, deps);
    case 'watermark-read':
      return readWatermark(request, deps);
  }
}

async function checkQueues(request: DrainCheckRequest, deps: DrainCheckDependencies): Promise<QueuesDrained> {
  const { inboundQueues } = appResources(deps.topology, request.app);
  const measured = await Promise.all(
    inboundQueues.map(async (queue) => [queue, (await deps.broker.queueDepth(deps.names('queue', queue))) ?? null] as const),
  );
  const depths = Object.fromEntries(measured);
  if (measured.some(([, depth]) => depth !== 0)) {
    const listed = measured.map(([queue, depth]) => `${queue}=${depth ?? 'unknown'}`).join(', ');
    throw new DrainNotCompleteError(`${request.app} in ${deps.region} is not drained: queue depths ${listed}`, { depths });
  }
  return { check: 'queues', app: request.app, region: deps.region, drained: true, depths: depths as Record<string, number> };
}

async function writeWatermark(request: DrainCheckRequest, deps: DrainCheckDependencies): Promise<WatermarkWritten> {
  const { safeStores } = appResources(deps.topology, request.app);
  const item: WatermarkItem = {
    id: watermarkId(request.runId),
    kind: 'watermark',
    runId: request.runId,
    app: request.app,
    region: deps.region,
    writtenAt: (deps.now ?? (() => new Date()))().toISOString(),
  };
  // A plain put: writing it again (a retried task) only moves `writtenAt`, and every write replicates in order.
  await Promise.all(safeStores.map((table) => deps.documents.send(new PutCommand({ TableName: deps.names('table', table), Item: item }))));
  return { check: 'watermark-write', app: request.app, region: deps.region, watermark: item.id, tables: [...safeStores] };
}

async function readWatermark(request: DrainCheckRequest, deps: DrainCheckDependencies): Promise<WatermarkArrived> {
  const { safeStores } = appResources(deps.topology, request.app);
  const id = watermarkId(request.runId);
  const found = await Promise.all(
    safeStores.map(async (table) => {
      const output = await deps.documents.send(new GetCommand({ TableName: deps.names('table', table), Key: { id }, ConsistentRead: true }));
      return output.Item !== undefined;
    }),
  );
  const missing = safeStores.filter((_, index) => !found[index]);
  if (missing.length > 0) {
    throw new DrainNotCompleteError(
      `${id} has not replicated to ${request.app} in ${deps.region} yet: missing from ${missing.join(', ')}`,
      { tablesWithoutWatermark: missing },
    );
  }
  return { check: 'watermark-read', app: request.app, region: deps.region, drained: true, tables: [...safeStores] };
}
