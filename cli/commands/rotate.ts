import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import type { TwinExecution } from '#local/controller/twin-workflows.ts';
import { appArgument, type CommandIO, parseCommand, UsageError, wholeNumber } from '../io.ts';
import { followExecution, progressLine } from './execution-progress.ts';

const HELP = `Usage: rotor rotate <trade-matching|settlement> [--unplanned] [--to REGION] [--json]
                    [--max-passes N] [--propagation SECONDS] [--timeout SECONDS] [--data-dir DIR]

Moves the app to another region with its workflow, showing each state as it runs.

Planned (workflows/rotation.asl.json): the edge moves to the target at once (its queue control holds new
messages), the source drains with positive evidence (empty queues, a reconciliation pass with nothing in flight,
a watermark replicated to the target), the Aurora writer switches over without loss, matching moves with it, the
target is reconciled, its queues open, and a canary pair is followed to SETTLED. A digest of every store before
and after shows nothing changed. A source that does not drain puts routing back and changes nothing else.

--unplanned (workflows/disaster-recovery.asl.json): the source is lost; only the surviving region and the ARC
cluster are touched: the edge moves, the Aurora secondary is promoted (failover), matching moves, the target is
reconciled and replayed from the replicated safe stores, its queues open, and a canary settles.

Exit 0 when the workflow succeeded and the canary settled, 1 otherwise.

Options:
  --unplanned             disaster recovery instead of a planned rotation
  --to REGION             the target region (default: the one other region of the twin)
  --json                  print the result as JSON
  --max-passes N          reconciliation passes in the target (default 5)
  --propagation SECONDS   wait after each replay before comparing again (default 3)
  --timeout SECONDS       stop waiting for the execution after this long (default 900)
  --data-dir DIR          the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  -h, --help              show this help
`;

const PREFIX = { 'trade-matching': 'tm', settlement: 'sm' } as const;

export interface RotationResult {
  readonly ok: boolean;
  readonly app: string;
  readonly unplanned: boolean;
  readonly execution: string;
  readonly source_region: string;
  readonly target_region: string;
  readonly status: string;
  /** Execution start → the canary pair SETTLED in the target (DESIGN §6). */
  readonly rto_ms: number | null;
  readonly digests_equal: boolean | null;
  readonly reconciliation: unknown;
  readonly canary: unknown;
  readonly states: ReadonlyArray<{ state: string; ms: number }>;
  readonly error?: string;
  readonly cause?: string;
}

export async function runRotate(args: string[], io: CommandIO): Promise<number> {
  const options = parseCommand(args, {
    unplanned: { type: 'boolean' },
    to: { type: 'string' },
    json: { type: 'boolean' },
    'max-passes': { type: 'string' },
    propagation: { type: 'string' },
    timeout: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const app = appArgument(options.positionals);
  const { TwinClient } = await import('#local/controller/twin-client.ts');
  const client = await TwinClient.connect(options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR);
  const status = await client.status();
  const regions = status.regions.map((region) => region.region);
  const sourceRegion = await client.activeRegion(app);
  const targetRegion = options.to ?? onlyOtherRegion(regions, sourceRegion);
  if (!regions.includes(targetRegion) || targetRegion === sourceRegion) {
    throw new UsageError(`--to must be another region of the twin (${regions.filter((region) => region !== sourceRegion).join(', ')}), not ${targetRegion}`);
  }

  const unplanned = options.unplanned ?? false;
  const stateMachine = `${PREFIX[app]}-${unplanned ? 'disaster-recovery' : 'rotation'}`;
  const input = {
    app,
    sourceRegion,
    targetRegion,
    maxPasses: wholeNumber('max-passes', options['max-passes'], 5),
    propagationSeconds: wholeNumber('propagation', options.propagation, 3),
  };
  // The workflow runs where the app is going: in a disaster the source cannot run anything.
  const started = await client.startExecution(stateMachine, input, { region: targetRegion });
  io.err(`${stateMachine} ${started.name}: ${app} ${sourceRegion} → ${targetRegion}\n`);
  const execution = await followExecution(started.name, wholeNumber('timeout', options.timeout, 900) * 1000, (name) => client.describeExecution(name), (event) =>
    io.err(progressLine(event, started.startDate)),
  );
  const result = rotationResult(execution, { app, unplanned, sourceRegion, targetRegion });
  io.out(options.json ? `${JSON.stringify(result)}\n` : formatRotation(result));
  return result.ok ? 0 : 1;
}

function onlyOtherRegion(regions: readonly string[], active: string): string {
  const others = regions.filter((region) => region !== active);
  if (others.length !== 1) throw new UsageError(`the twin has ${others.length} other regions (${others.join(', ')}); name the target with --to`);
  return others[0]!;
}

/** The rotation's outcome from its history: the summary when it succeeded, timings and RTO either way. */
export function rotationResult(execution: TwinExecution, context: { app: string; unplanned: boolean; sourceRegion: string; targetRegion: string }): RotationResult {
  const summary = (execution.status === 'SUCCEEDED' ? execution.output : undefined) as
    | { digestsEqual?: boolean; reconciliation?: unknown; canary?: { settled?: boolean } }
    | undefined;
  const startedAt = Date.parse(execution.startDate);
  const canarySettled = execution.events.find((event) => event.type === 'StateExited' && event.stateName === 'CheckCanary');
  const states = execution.events
    .filter((event) => event.type === 'StateExited' && event.durationMs !== undefined && (event.stateType === 'Task' || event.stateType === 'Wait'))
    .map((event) => ({ state: event.stateName ?? '', ms: Math.round(event.durationMs!) }));
  return {
    ok: execution.status === 'SUCCEEDED' && summary?.canary?.settled === true && (context.unplanned || summary?.digestsEqual === true),
    app: context.app,
    unplanned: context.unplanned,
    execution: execution.name,
    source_region: context.sourceRegion,
    target_region: context.targetRegion,
    status: execution.status,
    rto_ms: canarySettled ? Date.parse(canarySettled.timestamp) - startedAt : null,
    digests_equal: context.unplanned ? null : (summary?.digestsEqual ?? null),
    reconciliation: summary?.reconciliation ?? null,
    canary: summary?.canary ?? null,
    states,
    ...(execution.error ? { error: execution.error, cause: execution.cause ?? '' } : {}),
  };
}

function formatRotation(result: RotationResult): string {
  const lines = [
    `${result.ok ? 'ROTATED' : 'NOT ROTATED'} — ${result.app} ${result.source_region} → ${result.target_region} (${result.unplanned ? 'disaster recovery' : 'planned'}): ${result.status}`,
    `  RTO              ${result.rto_ms === null ? 'n/a' : `${(result.rto_ms / 1000).toFixed(1)} s`}`,
    ...(result.unplanned ? [] : [`  digests equal    ${result.digests_equal === null ? 'n/a' : result.digests_equal ? 'yes' : 'NO'}`]),
    `  reconciliation   ${JSON.stringify(result.reconciliation)}`,
    ...(result.error ? [`  error            ${result.error}: ${result.cause ?? ''}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
