import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import { isTopologyName } from '#local/region/topologies.ts';
import { type CommandIO, parseOptions, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor up [--data-dir DIR] [--regions R1,R2[,R3]] [--fresh] [--replication-lag-ms N]

Starts the local two-region twin: one process per region (Kinesis, DynamoDB, MQ broker, PostgreSQL, the
functions and their event-source mappings) and, in this process, the global layer (the Route 53 ARC cluster
with its safety rules, and DynamoDB global tables between the regions). The first region starts active.
Everything lives on disk under the data directory, so stopping and starting again brings it all back.
Ctrl-C (or SIGTERM) stops every region cleanly, then the global layer.

Options:
  --data-dir DIR          where the twin keeps its data (default ${DEFAULT_TWIN_DATA_DIR})
  --regions R1,R2[,R3]    regions to run (default: those of the last run, else us-east-1,us-west-2)
  --fresh                 wipe the data directory first
  --replication-lag-ms N  DynamoDB global-table replication delay per direction (default 300)
  --topology NAME         rotor (default) or demo (the demo chain of local/region)
  -h, --help              show this help

While it runs: \`rotor status\`, \`rotor region kill|stop|start <region>\`.
`;

export async function runUp(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    'data-dir': { type: 'string' },
    regions: { type: 'string' },
    fresh: { type: 'boolean' },
    'replication-lag-ms': { type: 'string' },
    topology: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const topology = options.topology ?? 'rotor';
  if (!isTopologyName(topology)) throw new UsageError(`--topology must be rotor or demo, got "${topology}"`);
  const regions = options.regions?.split(',').map((region) => region.trim()).filter(Boolean);
  const dataDir = options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR;

  io.out(`Starting the Rotor twin${options.fresh ? ' (fresh)' : ''} in ${dataDir}: ${regions ? regions.join(', ') : 'its regions'} and the global layer…\n`);
  const twin = await startTwin({
    dataDir,
    topology,
    ...(regions ? { regions } : {}),
    ...(options.fresh ? { fresh: true } : {}),
    ...(options['replication-lag-ms'] ? { replicationLagMs: wholeNumber('replication-lag-ms', options['replication-lag-ms']) } : {}),
    onEvent: (message) => io.out(`  ${new Date().toISOString().slice(11, 23)}  ${message}\n`),
  });
  io.out(describeTwin(twin, await twin.status()));
  await stoppedBySignal(twin, io);
  return 0;
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

export function describeTwin(twin: RunningTwin, status: TwinStatus): string {
  const activeOf = (app: string) =>
    twin.regions.find((region) => status.routingControls.some((control) => control.name === `${app}-dns-${region}` && control.state === 'On')) ?? 'none';
  const lines = [
    '',
    `Twin up in ${seconds(twin.startupMs.total)} — data in ${twin.layout.dataDir}`,
    `Controller pid ${process.pid}, control endpoint ${twin.controlUrl} (found by \`rotor status\` through ${twin.layout.stateFile})`,
    '',
  ];
  for (const region of status.regions) {
    const active = activeOf('trade-matching') === region.region ? 'active' : 'standby';
    lines.push(
      `${region.region} (${active})  pid ${region.pid}  started in ${seconds(region.startupMs)}  ${region.rssMB ?? '?'} MB RSS`,
      `  DynamoDB    ${region.endpoints.dynamodb}  (global tables; the functions use this; dynalite behind it: ${region.endpoints.dynalite})`,
      `  Kinesis     ${region.endpoints.kinesis}`,
      `  MQ broker   ${region.endpoints.broker}`,
      `  status      ${region.endpoints.status}/status`,
      `  data        ${region.dataDir}`,
      `  log         ${region.log}`,
    );
  }
  const modes = [...new Set(status.replication.tables.map((table) => table.mode))].join('/') || 'none';
  lines.push(
    '',
    'Global layer (in this process):',
    `  ARC cluster   ${status.arcEndpoints.map((endpoint) => endpoint.url).join(', ')}  (state in ${twin.layout.arcDir})`,
    `  routing       trade-matching → ${activeOf('trade-matching')}, settlement → ${activeOf('settlement')}`,
    `  DynamoDB global tables: ${status.replication.tables.length} tables (${modes}), replication lag ${status.replication.lagMs} ms per direction`,
    '',
    'Dashboard: arrives with its issue; until then `rotor status` shows the twin.',
    `Memory: ${status.totalRssMB} MB RSS in total (controller ${status.controller.rssMB} MB + regions)`,
    'Ctrl-C stops everything. Try `rotor status`, `rotor region kill us-west-2`, `rotor region start us-west-2`.',
    '',
  );
  return lines.join('\n');
}

/** Runs until SIGINT or SIGTERM, then stops the twin cleanly; a second signal exits at once. */
async function stoppedBySignal(twin: RunningTwin, io: CommandIO): Promise<void> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const forceExit = () => process.exit(130);
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  io.out(`\n${signal}: stopping the regions, then the global layer…\n`);
  const began = performance.now();
  await twin.stop();
  io.out(`Twin stopped in ${seconds(Math.round(performance.now() - began))}; its data stays in ${twin.layout.dataDir}.\n`);
  process.off('SIGINT', forceExit);
  process.off('SIGTERM', forceExit);
}
