/**
 * The dashboard's API, shared by its server (local/dashboard/server.ts) and its UI (dashboard/src): one snapshot of
 * the twin pushed every second over server-sent events, built from what the twin already keeps in memory — the
 * functions' own metrics (Powertools EMF, as CloudWatch would receive them), mapping lag, routing controls,
 * replication links, the generator loop and workflow executions — never from scans of the stores.
 *
 *   GET  /api/events?token=T            text/event-stream; event `snapshot`, data: DashboardSnapshot, every second
 *   GET  /api/snapshot                  DashboardSnapshot
 *   GET  /api/state-machines            StateMachineView[]
 *   GET  /api/executions/<name>         ExecutionView (with its state-by-state history)
 *   GET  /api/reports/latest[?format=csv]  the last missing-transaction report (404 when there is none)
 *   POST /api/routing-controls/<name>   {state: 'On'|'Off'} → RoutingControlView; 409 {error, type} when a safety rule refuses
 *   POST /api/generator                 GeneratorRequest → GeneratorView
 *   POST /api/executions                StartExecutionRequest → {executionName}
 *   POST /api/regions/<region>          RegionRequest → RegionActionView (stop, SIGKILL or start one region's process)
 *   GET  /api/chaos                     ChaosView: the experiments, the running ones, the recent runs
 *   POST /api/chaos/<experiment>        ChaosRequest → ChaosRunView[] (the run started, or the runs stopped)
 *
 * Every /api request needs `Authorization: Bearer <token>` (the token `rotor up` prints); only /api/events, which
 * a browser's EventSource cannot give headers, takes `?token=` instead, and it changes nothing. Nothing answers
 * cross-origin requests, so a page elsewhere can neither send the header nor read an answer (CSRF-safe).
 */

export type AppName = 'trade-matching' | 'settlement';

export interface MappingView {
  readonly mappingId: string;
  readonly state: string;
  readonly iteratorAgeMs?: number;
  readonly queueDepth?: number;
}

export interface RegionView {
  readonly region: string;
  /** The region process: 'up', 'down', 'starting', … */
  readonly state: string;
  readonly rssMB: number | null;
  readonly uptimeMs: number | null;
  /** Apps whose dns control is On here. */
  readonly activeFor: readonly AppName[];
  readonly mappings: readonly MappingView[];
}

export interface RoutingControlView {
  readonly name: string;
  readonly state: 'On' | 'Off';
}

/** Totals since the controller started, by region → service (function name, e.g. `tm-ingestion`) → metric. */
export type MetricTotals = Record<string, Record<string, Record<string, number>>>;

/** The same keys, one sum per second, oldest first, for the last `seriesSeconds` seconds. */
export type MetricSeries = Record<string, Record<string, Record<string, number[]>>>;

export interface ReplicationView {
  readonly lagMs: number;
  readonly directions: readonly {
    readonly from: string;
    readonly to: string;
    readonly state: string;
    readonly backlog: number;
    readonly oldestPendingAgeMs: number;
  }[];
  /** Aurora global databases: writer region and replication lag per database, when known. */
  readonly databases: readonly { readonly name: string; readonly writerRegion: string | null; readonly lagMs: number | null }[];
}

export interface GeneratorView {
  readonly state: string;
  readonly rate: number;
  readonly legsSent: number;
  readonly region?: string;
  readonly reason?: string;
}

export interface ExecutionSummary {
  readonly name: string;
  readonly stateMachine: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly region: string;
  readonly startDate: string;
  readonly stopDate?: string;
}

export interface ExecutionView extends ExecutionSummary {
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** States in the order entered: name, when entered and left, and how it ended. */
  readonly states: readonly { readonly name: string; readonly enteredAt: string; readonly exitedAt?: string; readonly outcome?: 'succeeded' | 'failed' | 'retried' }[];
}

export interface StateMachineView {
  readonly name: string;
  readonly app: AppName | null;
  /** The ASL definition, for drawing the graph. */
  readonly definition: unknown;
  readonly available: boolean;
}

export interface DashboardSnapshot {
  readonly at: string;
  readonly regions: readonly RegionView[];
  readonly apps: readonly { readonly app: AppName; readonly activeRegion: string | null }[];
  readonly routingControls: readonly RoutingControlView[];
  readonly arcEndpoints: readonly { readonly url: string; readonly region: string; readonly running: boolean }[];
  readonly replication: ReplicationView;
  readonly generator: GeneratorView | null;
  readonly metrics: MetricTotals;
  readonly series: MetricSeries;
  readonly seriesSeconds: number;
  readonly executions: readonly ExecutionSummary[];
}

export type GeneratorRequest = { readonly action: 'start'; readonly rate: number } | { readonly action: 'stop' };

/** An outage on demand: `stop` shuts the region's process down, `kill` SIGKILLs it (an unplanned outage), `start` brings it back. */
export interface RegionRequest {
  readonly action: 'stop' | 'kill' | 'start';
}

export interface RegionActionView {
  readonly region: string;
  readonly action: RegionRequest['action'];
  /** The process's state once the action finished: 'down' after stop or kill, 'up' after start. */
  readonly state: string;
}

/** A chaos experiment of the twin's catalogue (local/chaos/catalogue.ts). */
export interface ChaosExperimentView {
  readonly name: string;
  readonly summary: string;
  /** What `targets` name: stage functions, streams, queues, regions, …. */
  readonly targetKind: string;
  readonly defaultTargets: readonly string[];
  readonly defaultDurationMs: number;
  /** A deliberately broken build (the matrix must report it not ok), not a fault of the environment. */
  readonly brokenBuild: boolean;
}

export interface ChaosRunView {
  readonly id: string;
  readonly experiment: string;
  readonly targets: readonly string[];
  readonly durationMs: number;
  readonly state: 'running' | 'stopped' | 'failed';
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly notes: readonly string[];
  readonly error?: string;
}

export interface ChaosView {
  /** Empty where there is no chaos controller (the dashboard on AWS: use AWS FIS). */
  readonly experiments: readonly ChaosExperimentView[];
  readonly running: readonly ChaosRunView[];
  readonly recent: readonly ChaosRunView[];
}

export type ChaosRequest = { readonly action: 'start'; readonly targets?: readonly string[]; readonly durationSeconds?: number } | { readonly action: 'stop' };

export interface StartExecutionRequest {
  /** A manifest state machine, e.g. `tm-rotation`. */
  readonly stateMachine: string;
  readonly input: Record<string, unknown>;
}
