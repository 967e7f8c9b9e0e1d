import { requiredEnv } from '#shared/config/environment.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * The resources reconciliation reads and replays into, by app, and the environment variables the manifest gives
 * the operations functions for them (shared/topology/rotor.ts). Every ops function serves both apps, because a
 * run names its app and the inter-app pairs read the other app's outbound store.
 */

export const APPS: readonly AppName[] = ['trade-matching', 'settlement'];

export const APP_PREFIX: Record<AppName, 'tm' | 'sm'> = { 'trade-matching': 'tm', settlement: 'sm' };

/** The other app: the source of an inter-app pair whose destination is `app`. */
export const otherApp = (app: AppName): AppName => (app === 'trade-matching' ? 'settlement' : 'trade-matching');

/** The five safe stores of one app, in pipeline order. */
export interface AppStores {
  readonly inboundGateway: string;
  readonly ingestion: string;
  readonly matching: string;
  readonly egress: string;
  readonly outboundGateway: string;
  /** Trade matching only: the FIX gateway's safe store, upstream of the in-gateway store (docs/fix.md). */
  readonly fixGateway?: string;
}

/**
 * What reconciliation calls each app's matching database records (trades, settlements) among the tables it reads:
 * not DynamoDB names (those cannot hold a '/'), so a read port tells them apart.
 */
export const DATABASE_RECORDS: Record<AppName, string> = { 'trade-matching': 'tm-db/trades', settlement: 'sm-db/settlements' };

/** The app whose database records `table` names, if it names any. */
export const appOfDatabaseRecords = (table: string): AppName | undefined => APPS.find((app) => DATABASE_RECORDS[app] === table);

/** The streams a replay puts records on. */
export interface AppStreams {
  readonly ingestion: string;
  readonly egress: string;
  readonly outbound: string;
}

/** Where replays go: each app's streams, and the queue on which each app receives from the other. */
export interface ReplayTargets {
  readonly streams: Readonly<Record<AppName, AppStreams>>;
  /** `sm.settlements` for settlement, `tm.settlements` for trade matching, named as this region's broker has them. */
  readonly interAppQueues: Readonly<Record<AppName, string>>;
  /** `tm.trades` as this region's broker names it: where FIX legs missing from the in-gateway store go again. */
  readonly tradesQueue?: string;
}

export interface ReconciliationNames {
  readonly stores: Readonly<Record<AppName, AppStores>>;
  /** Only the replay task sends anything; the graph refuses to build a replay without these. */
  readonly targets?: ReplayTargets;
}

/** The queue each app's inbound gateway takes the other app's messages from, as the manifest names it. */
export const INTER_APP_QUEUE: Record<AppName, string> = { 'trade-matching': 'tm.settlements', settlement: 'sm.settlements' };

type PipelineStage = Exclude<keyof AppStores, 'fixGateway'>;

const upper = (app: AppName) => APP_PREFIX[app].toUpperCase();

/** Environment variable names, e.g. `TM_INGESTION_STORE`, `SM_EGRESS_STREAM`, `TM_RECONCILIATION_AUDIT`. */
export const ReconciliationEnv = {
  store: (app: AppName, stage: PipelineStage) => `${upper(app)}_${STORE_VARIABLES[stage]}_STORE`,
  stream: (app: AppName, stream: keyof AppStreams) => `${upper(app)}_${stream.toUpperCase()}_STREAM`,
  interAppQueue: (app: AppName) => `${upper(app)}_SETTLEMENTS_QUEUE`,
  database: (app: AppName) => `${upper(app)}_DATABASE`,
  audit: (app: AppName) => `${upper(app)}_RECONCILIATION_AUDIT`,
} as const;

/** The FIX gateway's store and the queue its legs are replayed to, when the manifest gives them. */
const FIX_GATEWAY_STORE_VARIABLE = 'TM_FIX_GATEWAY_STORE';
const TRADES_QUEUE_VARIABLE = 'TM_TRADES_QUEUE';

const STORE_VARIABLES: Record<PipelineStage, string> = {
  inboundGateway: 'INBOUND_GATEWAY',
  ingestion: 'INGESTION',
  matching: 'MATCHING',
  egress: 'EGRESS',
  outboundGateway: 'OUTBOUND_GATEWAY',
};

const STORE_STAGES = Object.keys(STORE_VARIABLES) as PipelineStage[];
const STREAMS: readonly (keyof AppStreams)[] = ['ingestion', 'egress', 'outbound'];

const byApp = <T>(build: (app: AppName) => T): Record<AppName, T> =>
  Object.fromEntries(APPS.map((app) => [app, build(app)])) as Record<AppName, T>;

export function storesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<AppName, AppStores> {
  return byApp((app) => {
    const stores = Object.fromEntries(STORE_STAGES.map((stage) => [stage, requiredEnv(ReconciliationEnv.store(app, stage), env)])) as unknown as AppStores;
    const fixGateway = app === 'trade-matching' ? env[FIX_GATEWAY_STORE_VARIABLE] : undefined;
    return fixGateway ? { ...stores, fixGateway } : stores;
  });
}

export function replayTargetsFromEnv(env: NodeJS.ProcessEnv = process.env): ReplayTargets {
  return {
    streams: byApp((app) => Object.fromEntries(STREAMS.map((stream) => [stream, requiredEnv(ReconciliationEnv.stream(app, stream), env)])) as unknown as AppStreams),
    interAppQueues: byApp((app) => requiredEnv(ReconciliationEnv.interAppQueue(app), env)),
    ...(env[TRADES_QUEUE_VARIABLE] ? { tradesQueue: env[TRADES_QUEUE_VARIABLE] } : {}),
  };
}

export function auditTablesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<AppName, string> {
  return byApp((app) => requiredEnv(ReconciliationEnv.audit(app), env));
}

export function databasesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<AppName, string> {
  return byApp((app) => requiredEnv(ReconciliationEnv.database(app), env));
}

/** The names the manifest gives an app's resources: `<p>-<stage>-store`, `<p>-<stream>`. */
export function manifestNames(): Required<ReconciliationNames> {
  const stores = byApp((app) => {
    const p = APP_PREFIX[app];
    return {
      inboundGateway: `${p}-inbound-gateway-store`,
      ingestion: `${p}-ingestion-store`,
      matching: `${p}-matching-store`,
      egress: `${p}-egress-store`,
      outboundGateway: `${p}-outbound-gateway-store`,
      ...(app === 'trade-matching' ? { fixGateway: 'tm-fix-gateway-store' } : {}),
    };
  });
  const streams = byApp((app) => ({ ingestion: `${APP_PREFIX[app]}-ingestion`, egress: `${APP_PREFIX[app]}-egress`, outbound: `${APP_PREFIX[app]}-outbound` }));
  return { stores, targets: { streams, interAppQueues: { ...INTER_APP_QUEUE }, tradesQueue: 'tm.trades' } };
}
