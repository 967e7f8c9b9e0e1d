/**
 * The FIX gateway process (docs/fix.md): `npx tsx local/fix/gateway-main.ts`, configured only by environment:
 *
 *   AWS_REGION                 the region it serves; its lease is `lease:<region>` (required)
 *   AWS_ENDPOINT_URL_DYNAMODB  DynamoDB endpoint (the twin's replicating endpoint); AWS credentials as usual
 *   FIX_BROKER_URL             the region's MQ broker, `stomp://host:port` (required)
 *   FIX_TRADES_QUEUE           where accepted legs go (default `tm.trades`; the twin's shared brokers prefix it)
 *   FIX_RESPONSES_QUEUE        where TM outcomes are read for the sessions (default `tm.responses`; empty: none)
 *   FIX_HOST, FIX_PORT         where the acceptor listens (default 0.0.0.0:9880; port 0 picks a free one)
 *   FIX_ADVERTISED_ADDRESS     `host:port` the lease advertises to the front / load balancer (default host:port bound)
 *   FIX_GATEWAY_ID             this process's name in the lease (default `<hostname>-<pid>`)
 *   FIX_STORE_TABLE, FIX_SESSIONS_TABLE, FIX_LEASE_TABLE   default tm-fix-gateway-store, tm-fix-sessions, tm-fix-lease
 *   FIX_COUNTERPARTIES         JSON `[{"compId","party","password"}…]`, or FIX_COUNTERPARTIES_FILE a file of it;
 *                              default the twin's IMQAINS012/im-secret → QAINS012, BRQABRO010/broker-secret → QABRO010
 *   FIX_LEASE_TTL_MS, FIX_LEASE_RENEW_MS, FIX_LEASE_POLL_MS   lease timing (default 2000, 500, 150)
 *
 * It logs one JSON object per line on stdout (`{"at","gateway","event",…}`), passwords never included, and prints
 * `{"event":"listening","address":…}` once it accepts connections as a standby or leader. SIGTERM/SIGINT release the
 * lease and stop; SIGKILL leaves the lease to expire, and the standby takes over.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { counterpartiesFrom } from '#shared/fix/counterparties.ts';
import { DynamoDbLeaseStore } from '#shared/fix/dynamodb-lease-store.ts';
import { DynamoDbSessionStore } from '#shared/fix/dynamodb-session-store.ts';
import { DynamoDbFixLegStore } from '#shared/fix/leg-store.ts';
import { responsesOutcomeReporter } from '#shared/fix/outcomes.ts';
import { FIX_TABLES } from '#shared/topology/rotor.ts';
import { startFixGateway } from './gateway-server.ts';

class GatewayConfigurationError extends Error {
  override readonly name = 'GatewayConfigurationError';
}

const env = process.env;
const required = (name: string) => {
  const value = env[name];
  if (!value) throw new GatewayConfigurationError(`${name} must be set`);
  return value;
};
const number = (name: string, fallback: number) => {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < 0) throw new GatewayConfigurationError(`${name} must be a whole number, not ${env[name]}`);
  return value;
};

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const region = env.FIX_REGION ?? required('AWS_REGION');
  const holder = env.FIX_GATEWAY_ID ?? `${hostname()}-${process.pid}`;
  const log = (event: string, fields: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), gateway: holder, event, ...fields })}\n`);
  const counterparties = counterpartiesFrom(env.FIX_COUNTERPARTIES ?? (env.FIX_COUNTERPARTIES_FILE ? readFileSync(env.FIX_COUNTERPARTIES_FILE, 'utf8') : undefined));
  const documents = documentClient(new DynamoDBClient({ region, maxAttempts: 2 }));
  // Outcomes for a sender not logged on are released and read again; they must not be dead-lettered meanwhile.
  const broker = new StompMessageBroker({ url: required('FIX_BROKER_URL'), maxDeliveries: 100_000 });
  const legs = new DynamoDbFixLegStore(documents, env.FIX_STORE_TABLE ?? FIX_TABLES.store);
  const responsesQueue = env.FIX_RESPONSES_QUEUE ?? 'tm.responses';

  const gateway = await startFixGateway({
    region,
    holder,
    host: env.FIX_HOST ?? '0.0.0.0',
    port: number('FIX_PORT', 9880),
    ...(env.FIX_ADVERTISED_ADDRESS ? { advertisedAddress: env.FIX_ADVERTISED_ADDRESS } : {}),
    counterparties,
    sessions: new DynamoDbSessionStore(documents, env.FIX_SESSIONS_TABLE ?? FIX_TABLES.sessions),
    legs,
    leases: new DynamoDbLeaseStore(documents, env.FIX_LEASE_TABLE ?? FIX_TABLES.lease),
    broker,
    tradesQueue: env.FIX_TRADES_QUEUE ?? 'tm.trades',
    ...(responsesQueue ? { outcomes: (deps) => responsesOutcomeReporter({ ...deps, broker, queue: responsesQueue, legs, counterparties, log }) } : {}),
    leaseTtlMs: number('FIX_LEASE_TTL_MS', 2_000),
    leaseRenewMs: number('FIX_LEASE_RENEW_MS', 500),
    leasePollMs: number('FIX_LEASE_POLL_MS', 150),
    log,
  });
  log('listening', { address: gateway.address, region });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('stopping', { signal });
    await gateway.stop().catch(() => undefined);
    await broker.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`fix gateway failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
