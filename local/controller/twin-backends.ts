import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { deadLetterQueueName, type MessageBroker } from '#shared/ports/message-broker.ts';
import type { Topology } from '#shared/topology/schema.ts';
import { TwinConfigurationError } from '#local/controller/errors.ts';
import { prepareRegionDatabases, redactedServer } from '#local/controller/postgres-databases.ts';
import type { SavedTwinLayout, TwinBackends, TwinPorts } from '#local/controller/twin-layout.ts';

/**
 * Where each region keeps its messages and relational data: embedded brokers and PGlite by default, or servers
 * the operator names (`rotor up --broker`, `--postgres`). A broker serving several regions gets a queue prefix per
 * region (`us-east-1.tm.trades`), or the regions would consume each other's queues.
 */

export interface RegionBroker {
  /** `stomp://host:port`, known whether the region is up or not. */
  readonly url: string;
  /** Put before every manifest queue name; '' when the region has the broker to itself. */
  readonly queuePrefix: string;
  /** An operator's broker (ActiveMQ), not the region's embedded one. */
  readonly external: boolean;
}

export interface TwinBackendOptions {
  readonly postgresUrl?: string | undefined;
  readonly brokerUrls?: readonly string[] | undefined;
}

const STOMP_URL = /^stomp:\/\/[^/\s:]+:\d{1,5}\/?$/;

export function twinBackends(options: TwinBackendOptions, regions: readonly string[]): TwinBackends {
  const { brokerUrls } = options;
  if (brokerUrls !== undefined) {
    if (brokerUrls.length !== 1 && brokerUrls.length !== regions.length) {
      throw new TwinConfigurationError(`give one broker URL for every region, or one per region (${regions.length}), not ${brokerUrls.length}`);
    }
    const malformed = brokerUrls.find((url) => !STOMP_URL.test(url));
    if (malformed !== undefined) throw new TwinConfigurationError(`a broker URL is stomp://host:port, got ${malformed}`);
  }
  if (options.postgresUrl !== undefined && !/^postgres(ql)?:\/\//.test(options.postgresUrl)) {
    throw new TwinConfigurationError(`--postgres must be a postgres:// URL, got ${options.postgresUrl}`);
  }
  return {
    databases: options.postgresUrl === undefined ? 'pglite' : redactedServer(options.postgresUrl),
    brokers: brokerUrls === undefined ? 'embedded' : brokerUrls.join(','),
  };
}

export function regionBrokers(brokerUrls: readonly string[] | undefined, regions: readonly string[], ports: TwinPorts): Record<string, RegionBroker> {
  if (brokerUrls === undefined) {
    return Object.fromEntries(regions.map((region) => [region, { url: `stomp://127.0.0.1:${ports.regions[region]!.broker}`, queuePrefix: '', external: false }]));
  }
  const urlOf = (index: number) => (brokerUrls.length === 1 ? brokerUrls[0]! : brokerUrls[index]!).replace(/\/$/, '');
  const urls = regions.map((_, index) => urlOf(index));
  return Object.fromEntries(
    regions.map((region, index) => {
      const shared = urls.filter((url) => url === urls[index]).length > 1;
      return [region, { url: urls[index]!, queuePrefix: shared ? `${region}.` : '', external: true }];
    }),
  );
}

/**
 * Each region's PostgreSQL URL per manifest database, creating the databases as needed; undefined on PGlite.
 * Databases found in the server are taken over only by the twin that used them before (its saved layout names the
 * same server); `fresh` drops and recreates them.
 */
export async function regionPostgresUrls(
  postgresUrl: string | undefined,
  context: { regions: readonly string[]; topology: Topology; saved: SavedTwinLayout | undefined; backends: TwinBackends; fresh: boolean; databasePrefix?: string | undefined },
): Promise<Record<string, Record<string, string>> | undefined> {
  if (postgresUrl === undefined || context.topology.databases.length === 0) return undefined;
  return prepareRegionDatabases(
    postgresUrl,
    context.regions,
    context.topology.databases.map((database) => database.name),
    {
      recreate: context.fresh,
      adoptExisting: context.saved?.backends?.databases === context.backends.databases,
      ...(context.databasePrefix === undefined ? {} : { prefix: context.databasePrefix }),
    },
  );
}

/**
 * Empties the twin's queues (and their dead-letter queues) on operators' brokers. A fresh twin starts with fresh
 * databases; messages an earlier twin left on a shared broker would otherwise reach it, naming trades it never saw.
 * Returns how many messages were removed.
 */
export async function purgeExternalQueues(brokers: Readonly<Record<string, RegionBroker>>, topology: Topology): Promise<number> {
  const names = topology.queues.filter((queue) => queue.service === 'mq').map((queue) => queue.name);
  let removed = 0;
  for (const broker of Object.values(brokers).filter((candidate) => candidate.external)) {
    const client = new StompMessageBroker({ url: broker.url });
    try {
      // Side by side: each empty queue costs one receive wait, and a fresh start should not pay them in turn.
      const queues = names.flatMap((name) => [`${broker.queuePrefix}${name}`, deadLetterQueueName(`${broker.queuePrefix}${name}`)]);
      const counts = await Promise.all(queues.map((queue) => drainQueue(client, queue)));
      removed += counts.reduce((sum, count) => sum + count, 0);
    } finally {
      await client.close();
    }
  }
  return removed;
}

async function drainQueue(broker: MessageBroker, queue: string): Promise<number> {
  const consumer = await broker.consume(queue, { prefetch: 500 });
  let removed = 0;
  try {
    for (;;) {
      const batch = await consumer.receive({ maxMessages: 500, waitMs: 250 });
      if (batch.length === 0) return removed;
      for (const message of batch) await consumer.ack(message);
      removed += batch.length;
    }
  } finally {
    await consumer.close();
  }
}
