import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { deadLetterQueueName } from '#shared/ports/message-broker.ts';
import type { RunningTwin } from '#local/controller/controller.ts';

/**
 * The invariants the chaos matrix checks besides verify's: every NACK carries a code and a reason, nothing sits in
 * a failure queue or a dead-letter queue (a batch that exhausted its retries: a blocked or skipped shard), and every
 * Kinesis mapping has caught up.
 */

const EGRESS_STORES = ['tm-egress-store', 'sm-egress-store'];
const INBOUND_QUEUES = ['tm.trades', 'tm.settlements', 'sm.settlements'];
const CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export interface NackAudit {
  readonly nacks: number;
  /** NACK ids without a code or a reason. */
  readonly withoutReason: string[];
  readonly byCode: Record<string, number>;
}

/** Every NACK egress produced in the region (read from its own dynalite), with its code and reason checked. */
export async function auditNacks(twin: RunningTwin, region: string): Promise<NackAudit> {
  const endpoint = twin.region(region).report?.endpoints.dynamodb;
  if (!endpoint) throw new Error(`region ${region} is not up; its NACKs cannot be read`);
  const client = new DynamoDBClient({ endpoint, region, credentials: CREDENTIALS });
  const documents = documentClient(client);
  const withoutReason: string[] = [];
  const byCode: Record<string, number> = {};
  let nacks = 0;
  try {
    for (const table of EGRESS_STORES) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
        for (const item of page.Items ?? []) {
          if (!String(item.id).startsWith('nack:')) continue;
          nacks += 1;
          const found = codeAndReason(item);
          if (!found) withoutReason.push(String(item.id));
          else byCode[found.code] = (byCode[found.code] ?? 0) + 1;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
  } finally {
    client.destroy();
  }
  return { nacks, withoutReason, byCode };
}

/** The first object inside the item holding a non-empty `code` and `reason` (the NACK's body, however nested). */
export function codeAndReason(value: unknown, depth = 0): { code: string; reason: string } | undefined {
  if (depth > 5 || value === null || typeof value !== 'object') {
    if (typeof value === 'string' && value.startsWith('{') && depth <= 5) {
      try {
        return codeAndReason(JSON.parse(value), depth + 1);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  if (typeof record.code === 'string' && record.code !== '' && typeof record.reason === 'string' && record.reason.trim() !== '') return { code: record.code, reason: record.reason };
  for (const nested of Object.values(record)) {
    const found = codeAndReason(nested, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Messages in every up region's failure queues and inbound dead-letter queues, by queue (only the non-empty ones). */
export async function stuckMessages(twin: RunningTwin): Promise<Record<string, number>> {
  const stuck: Record<string, number> = {};
  const failureQueues = twin.topology.queues.filter((queue) => queue.service === 'sqs').map((queue) => queue.name);
  for (const region of twin.regions) {
    if (twin.region(region).state !== 'up') continue;
    const broker = new StompMessageBroker({ url: twin.brokers[region]! });
    try {
      for (const queue of [...failureQueues, ...INBOUND_QUEUES.map(deadLetterQueueName)]) {
        const depth = await broker.queueDepth(twin.queueName(region, queue));
        if (depth > 0) stuck[`${region} ${queue}`] = depth;
      }
    } finally {
      await broker.close();
    }
  }
  return stuck;
}

/** Kinesis mappings whose oldest unfinished record is older than `maxAgeMs`, or that are not Enabled. */
export async function laggingMappings(twin: RunningTwin, maxAgeMs: number): Promise<string[]> {
  const status = await twin.status();
  return status.regions.flatMap((region) =>
    region.mappings
      .filter((mapping) => mapping.iteratorAgeMs !== undefined && (mapping.iteratorAgeMs > maxAgeMs || mapping.state !== 'Enabled'))
      .map((mapping) => `${region.region} ${mapping.mappingId} ${mapping.state} ${mapping.iteratorAgeMs} ms`),
  );
}
