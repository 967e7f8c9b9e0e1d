import type { RegionFaultKind } from '#local/chaos/fault-plan.ts';
import { deleteRegionFault, postRegionFault, regionFaults, upRegions, type ChaosTwin } from '#local/chaos/chaos-twin.ts';
import { sendPoison } from '#local/chaos/poison.ts';

/**
 * The chaos experiments. Each really creates the failure it names, inside the twin where the data flows: region
 * faults go into the region processes' fault plans (the Lambda runtime, the kinesalite and dynalite fronts, the
 * embedded broker); the rest act on the global layer (replication links, Aurora shipping, ARC endpoints) or on the
 * region processes themselves (SIGKILL).
 */

export interface InjectionContext {
  readonly id: string;
  readonly targets: readonly string[];
  readonly durationMs: number;
}

export interface Injected {
  readonly notes: string[];
  /** Ends the fault (idempotent); the system then recovers on its own. May say what the fault did. */
  undo(): Promise<string[] | void>;
}

export interface Experiment {
  readonly name: string;
  readonly summary: string;
  /** What `--target` names for this experiment. */
  readonly targetKind: 'functions' | 'streams' | 'queues' | 'operations' | 'regions' | 'endpoints' | 'none';
  readonly defaultDurationMs: number;
  /** A deliberately broken build: the matrix must report it not ok. Not part of the normal matrix. */
  readonly brokenBuild?: boolean;
  defaultTargets(twin: ChaosTwin): string[];
  inject(twin: ChaosTwin, context: InjectionContext): Promise<Injected>;
}

const APP_PREFIXES = ['tm', 'sm'] as const;
const KINESIS_STAGES = ['ingestion', 'matching', 'egress', 'outbound-gateway'] as const;
export const STAGE_FUNCTIONS = APP_PREFIXES.flatMap((p) => ['inbound-gateway', ...KINESIS_STAGES].map((stage) => `${p}-${stage}`));
export const KINESIS_STAGE_FUNCTIONS = APP_PREFIXES.flatMap((p) => KINESIS_STAGES.map((stage) => `${p}-${stage}`));
export const STREAMS = KINESIS_STAGE_FUNCTIONS;
/** The queues between and into the apps (what a second copy of a message could affect). */
export const QUEUES = ['tm.trades', 'tm.settlements', 'sm.settlements', 'tm.responses'];

/** A fault in every region that is up, removed from every region on undo. */
function regionFault(kind: RegionFaultKind, probability: number): Experiment['inject'] {
  return async (twin, context) => {
    const regions = upRegions(twin);
    // Grace beyond the duration: the controller removes it on time; the expiry only guards a controller that died.
    const fault = { id: context.id, kind, targets: [...context.targets], probability, expiresAt: Date.now() + context.durationMs + 30_000 };
    await Promise.all(regions.map((region) => postRegionFault(region.statusUrl, fault)));
    return {
      notes: [`${kind} p=${probability} in ${regions.map((region) => region.region).join(', ')} on ${context.targets.join(', ') || 'everything'}`],
      undo: async () => {
        const struck = await Promise.all(
          upRegions(twin).map(async (region) => {
            const strikes = (await regionFaults(region.statusUrl).catch(() => [])).find((each) => each.id === context.id)?.strikes ?? 0;
            await deleteRegionFault(region.statusUrl, context.id);
            return `${region.region} ${strikes}`;
          }),
        );
        return [`struck: ${struck.join(', ')}`];
      },
    };
  };
}

const activeTradeMatching = (twin: ChaosTwin) => [twin.activeRegion('trade-matching')];

const EXPERIMENTS: Experiment[] = [
  {
    name: 'crash-after-write',
    summary: 'stage functions crash after their safe-store writes and forwards, before returning: the batch is delivered again',
    targetKind: 'functions',
    defaultDurationMs: 15_000,
    defaultTargets: () => [...STAGE_FUNCTIONS],
    inject: regionFault('crash-after-effects', 0.3),
  },
  {
    name: 'crash-mid-batch',
    summary: 'Kinesis stages process the first half of a batch, then crash: the whole batch comes back (bisected)',
    targetKind: 'functions',
    defaultDurationMs: 15_000,
    defaultTargets: () => [...KINESIS_STAGE_FUNCTIONS],
    inject: regionFault('crash-mid-batch', 0.5),
  },
  {
    name: 'duplicate-kinesis-put',
    summary: 'records put to every stage stream are stored twice (a producer retry after a lost answer)',
    targetKind: 'streams',
    defaultDurationMs: 15_000,
    defaultTargets: () => [...STREAMS],
    inject: regionFault('duplicate-put', 0.3),
  },
  {
    name: 'duplicate-mq-send',
    summary: 'messages sent to the inbound and outbound queues are stored twice (a client resend after a lost receipt)',
    targetKind: 'queues',
    defaultDurationMs: 15_000,
    defaultTargets: () => [...QUEUES],
    inject: regionFault('duplicate-send', 0.3),
  },
  {
    name: 'poison-messages',
    summary: 'malformed, oversized (> 256 KiB) and valid-but-conflicting messages at every inbound gateway',
    targetKind: 'none',
    defaultDurationMs: 5_000,
    defaultTargets: () => [],
    inject: async (twin, context) => {
      const sent = await sendPoison(twin, context.id);
      return { notes: [`sent ${sent.map((message) => `${message.kind}→${message.queue}`).join(', ')}`], undo: async () => undefined };
    },
  },
  {
    name: 'kinesis-throttle',
    summary: 'Kinesis answers ProvisionedThroughputExceededException to a share of PutRecords and GetRecords',
    targetKind: 'operations',
    defaultDurationMs: 15_000,
    defaultTargets: () => ['PutRecords', 'PutRecord', 'GetRecords'],
    inject: regionFault('throttle-kinesis', 0.3),
  },
  {
    name: 'dynamodb-throttle',
    summary: "DynamoDB answers ProvisionedThroughputExceededException to a share of the functions' reads and writes",
    targetKind: 'operations',
    defaultDurationMs: 15_000,
    defaultTargets: () => ['GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem'],
    // At the replicating endpoint every function calls, not at dynalite behind it: the endpoint's own read-back of
    // a write it made, and the replication links, are DynamoDB's internals, which clients never see throttled.
    inject: async (twin, context) => {
      const operations = new Set(context.targets);
      twin.globalTables.setRequestFault((_, operation) => (operations.size === 0 || operations.has(operation)) && Math.random() < 0.2);
      return {
        notes: [`throttle p=0.2 at every region's DynamoDB endpoint on ${context.targets.join(', ') || 'everything'}`],
        undo: async () => {
          twin.globalTables.setRequestFault(undefined);
        },
      };
    },
  },
  {
    name: 'replication-pause',
    summary: 'DynamoDB global-table replication paused in every direction; the backlog ships on resume',
    targetKind: 'none',
    defaultDurationMs: 15_000,
    defaultTargets: () => [],
    inject: async (twin) => {
      twin.globalTables.pause();
      return { notes: ['every replication link paused'], undo: async () => {
          twin.globalTables.resume();
        },
      };
    },
  },
  {
    name: 'aurora-lag-spike',
    summary: "Aurora Global Database shipping paused: the secondaries' lag grows for the duration, then catches up",
    targetKind: 'none',
    defaultDurationMs: 15_000,
    defaultTargets: () => [],
    inject: async (twin) => {
      twin.auroraShipping.pause();
      return { notes: ['Aurora shipping paused'], undo: async () => {
          twin.auroraShipping.resume();
        },
      };
    },
  },
  {
    name: 'partition',
    summary: 'cross-region partition: DynamoDB replication both ways and Aurora shipping cut; both heal on stop',
    targetKind: 'none',
    defaultDurationMs: 15_000,
    defaultTargets: () => [],
    inject: async (twin) => {
      twin.globalTables.pause();
      twin.auroraShipping.pause();
      return {
        notes: ['replication links and Aurora shipping paused'],
        undo: async () => {
          twin.globalTables.resume();
          twin.auroraShipping.resume();
        },
      };
    },
  },
  arcLoss('arc-endpoints-all-but-one', 'all ARC cluster endpoints but the last stop answering; functions use the one left', (count) => count - 1),
  arcLoss('arc-endpoints-all', 'every ARC cluster endpoint stops answering; functions keep their last known routing state', (count) => count),
  {
    name: 'region-kill',
    summary: 'SIGKILL of a region (default: where trade matching is active), restarted after the duration on the same data',
    targetKind: 'regions',
    defaultDurationMs: 10_000,
    defaultTargets: activeTradeMatching,
    inject: async (twin, context) => {
      for (const region of context.targets) await twin.killRegion(region);
      let restarted: Promise<void> | undefined;
      return {
        notes: [`SIGKILLed ${context.targets.join(', ')}`],
        undo: () =>
          (restarted ??= (async () => {
            for (const region of context.targets) if (twin.region(region).state === 'down') await twin.startRegion(region);
          })()),
      };
    },
  },
  {
    name: 'broken-skip-batch',
    summary: 'BROKEN BUILD: a stage acknowledges a share of its batches without running them (proves the matrix can fail)',
    targetKind: 'functions',
    defaultDurationMs: 15_000,
    brokenBuild: true,
    defaultTargets: () => ['tm-egress'],
    inject: regionFault('skip-batch', 0.5),
  },
];

function arcLoss(name: string, summary: string, stopped: (count: number) => number): Experiment {
  return {
    name,
    summary,
    targetKind: 'endpoints',
    defaultDurationMs: 15_000,
    defaultTargets: (twin) => twin.arc.endpoints.slice(0, stopped(twin.arc.endpoints.length)).map((_, index) => String(index)),
    inject: async (twin, context) => {
      const indexes = context.targets.map(Number);
      for (const index of indexes) await twin.arc.stopEndpoint(index);
      return {
        notes: [`ARC endpoints ${indexes.join(', ')} of ${twin.arc.endpoints.length} stopped`],
        undo: async () => {
          for (const index of indexes) if (!twin.arc.isEndpointRunning(index)) await twin.arc.startEndpoint(index);
        },
      };
    },
  };
}

export function experiments(): readonly Experiment[] {
  return EXPERIMENTS;
}

export function experiment(name: string): Experiment | undefined {
  return EXPERIMENTS.find((candidate) => candidate.name === name);
}
