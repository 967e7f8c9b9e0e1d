import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import { PortInUseError, TwinAlreadyRunningError } from '#local/controller/errors.ts';
import { GENERATOR_CONTROL } from '#local/controller/generator-loop.ts';
import { profileCpuIfAsked } from '#local/support/cpu-profile.ts';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import { isTopologyName } from '#local/region/topologies.ts';
import { assertDashboardPortFree, DashboardPortInUseError, startDashboardServer, type RunningDashboardServer } from '#local/dashboard/server.ts';
import { twinDashboardBackend } from '#local/dashboard/twin-backend.ts';
import { type CommandIO, parseOptions, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor up [--data-dir DIR] [--regions R1,R2[,R3]] [--fresh] [--replication-lag-ms N]
                [--postgres URL] [--broker stomp://HOST:PORT[,stomp://HOST:PORT…]] [--rate R] [--zero-rpo]
                [--dashboard-port N | --no-dashboard]

Starts the local two-region twin: one process per region (Kinesis, DynamoDB, MQ broker, PostgreSQL, the
functions and their event-source mappings) and, in this process, the global layer (the Route 53 ARC cluster
with its safety rules, DynamoDB global tables and Aurora global databases between the regions). The first
region starts active. Everything lives on disk under the data directory, so stopping and starting again brings
it all back. Ctrl-C (or SIGTERM) stops every region cleanly, then the global layer.

It also serves the operations dashboard on 127.0.0.1 and prints its address, with a token made for this run in
the URL's fragment (#token=…); the address and token are also in <data dir>/dashboard.json (mode 0600). The UI is
built by \`npm run build:dashboard\` (dashboard/dist); until then the page says so and the API (/api/…) answers.

Options:
  --data-dir DIR          where the twin keeps its data (default ${DEFAULT_TWIN_DATA_DIR})
  --regions R1,R2[,R3]    regions to run (default: those of the last run, else us-east-1,us-west-2)
  --fresh                 wipe the data directory first (with --postgres: drop and recreate the twin's databases)
  --replication-lag-ms N  DynamoDB global-table replication delay per direction (default 300)
  --zero-rpo              replicate the TM inbound safe store synchronously (multi-Region strong consistency): a
                          leg is acknowledged only once every region that is up holds it
  --topology NAME         rotor (default) or demo (the demo chain of local/region)
  --postgres URL          a PostgreSQL server instead of PGlite, e.g. postgres://postgres:pw@127.0.0.1:5432/postgres;
                          the twin creates one database per region and manifest database in it, named
                          rotor_<region>_<database> (rotor_us_east_1_tm_db, …), through the database the URL names
  --broker URL[,URL…]     ActiveMQ over STOMP instead of the embedded brokers: one URL for every region (each
                          region's queues are then prefixed with its name: us-east-1.tm.trades), or one per region
  --rate R                keep the generator function running in the active trade-matching region at R legs per
                          second (decimals allowed); it sends only while the trade-matching-generator routing
                          control is On (default: no generator; the dashboard can start one)
  --dashboard-port N      the dashboard's port on 127.0.0.1 (default 0: any free port, printed at start-up);
                          a port in use fails the start with exit code 3
  --no-dashboard          do not serve the dashboard
  -h, --help              show this help

Exit codes:
  0  stopped cleanly (Ctrl-C / SIGTERM)
  1  the twin could not start, or failed
  2  bad arguments
  3  a port of the data directory's saved layout, or the --dashboard-port, is taken by another process
  4  the data directory is in use by a running twin (the message gives its controller's pid)

While it runs: \`rotor status\`, \`rotor region kill|stop|start <region>\`; functions answer AWS Lambda's Invoke API
at the control endpoint: POST <control>/apps/<app>/functions/<name>/invocations (the app's active region) or
POST <control>/regions/<region>/functions/<name>/invocations.
`;

export const EXIT_PORT_IN_USE = 3;
export const EXIT_DATA_DIR_IN_USE = 4;

export async function runUp(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    'data-dir': { type: 'string' },
    regions: { type: 'string' },
    fresh: { type: 'boolean' },
    'replication-lag-ms': { type: 'string' },
    topology: { type: 'string' },
    postgres: { type: 'string' },
    broker: { type: 'string' },
    rate: { type: 'string' },
    'zero-rpo': { type: 'boolean' },
    'dashboard-port': { type: 'string' },
    'no-dashboard': { type: 'boolean' },
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
  const brokerUrls = options.broker?.split(',').map((url) => url.trim()).filter(Boolean);
  if (options.broker !== undefined && (!brokerUrls?.length || brokerUrls.some((url) => !/^stomp:\/\/[^/\s:]+:\d{1,5}\/?$/.test(url)))) {
    throw new UsageError(`--broker takes stomp://HOST:PORT URLs, comma-separated, got "${options.broker}"`);
  }
  if (options.postgres !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(options.postgres)) {
    throw new UsageError(`--postgres takes a postgres:// URL, got "${options.postgres}"`);
  }
  const rate = options.rate === undefined ? undefined : legsPerSecond(options.rate);
  if (options['no-dashboard'] && options['dashboard-port'] !== undefined) throw new UsageError('--dashboard-port and --no-dashboard exclude each other');
  const dashboardPort = options['no-dashboard'] ? undefined : portNumber('dashboard-port', options['dashboard-port']);
  if (dashboardPort !== undefined) {
    try {
      await assertDashboardPortFree(dashboardPort);
    } catch (error) {
      if (!(error instanceof DashboardPortInUseError)) throw error;
      io.err(`rotor up: ${error.message}\n`);
      return EXIT_PORT_IN_USE;
    }
  }

  io.out(`Starting the Rotor twin${options.fresh ? ' (fresh)' : ''} in ${dataDir}: ${regions ? regions.join(', ') : 'its regions'} and the global layer…\n`);
  let twin: RunningTwin;
  try {
    twin = await startTwin({
      dataDir,
      topology,
      ...(regions ? { regions } : {}),
      ...(options.fresh ? { fresh: true } : {}),
      ...(options['replication-lag-ms'] ? { replicationLagMs: wholeNumber('replication-lag-ms', options['replication-lag-ms']) } : {}),
      ...(options.postgres ? { postgresUrl: options.postgres } : {}),
      ...(brokerUrls ? { brokerUrls } : {}),
      ...(rate === undefined ? {} : { generatorRate: rate }),
      ...(options['zero-rpo'] ? { zeroRpo: true } : {}),
      onEvent: (message) => io.out(`  ${new Date().toISOString().slice(11, 23)}  ${message}\n`),
    });
  } catch (error) {
    if (error instanceof PortInUseError) {
      io.err(`rotor up: ${error.message}\n`);
      return EXIT_PORT_IN_USE;
    }
    if (error instanceof TwinAlreadyRunningError) {
      io.err(`rotor up: ${error.message}\n`);
      return EXIT_DATA_DIR_IN_USE;
    }
    throw error;
  }
  let dashboard: RunningDashboardServer | undefined;
  const backend = dashboardPort === undefined ? undefined : twinDashboardBackend(twin);
  if (backend) {
    try {
      dashboard = await startDashboardServer({ backend, dataDir: twin.layout.dataDir, port: dashboardPort });
    } catch (error) {
      backend.close();
      await twin.stop();
      if (!(error instanceof DashboardPortInUseError)) throw error;
      io.err(`rotor up: ${error.message}\n`);
      return EXIT_PORT_IN_USE;
    }
  }
  io.out(describeTwin(twin, await twin.status(), dashboard));
  await stoppedBySignal(twin, io, async () => {
    await dashboard?.close();
    backend?.close();
  });
  return 0;
}

function portNumber(name: string, text: string | undefined): number {
  const port = wholeNumber(name, text, 0);
  if (port > 65_535) throw new UsageError(`--${name} must be a port number (0 for any free port), got "${text}"`);
  return port;
}

function legsPerSecond(text: string): number {
  const rate = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(rate > 0)) throw new UsageError(`--rate must be a positive number of legs per second, got "${text}"`);
  return rate;
}

function seconds(ms: number | null): string {
  return ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

export function describeTwin(twin: RunningTwin, status: TwinStatus, dashboard?: Pick<RunningDashboardServer, 'openUrl'>): string {
  const activeOf = (app: string) =>
    twin.regions.find((region) => status.routingControls.some((control) => control.name === `${app}-dns-${region}` && control.state === 'On')) ?? 'none';
  const lines = [
    '',
    `Twin up in ${seconds(twin.startupMs.total)} — data in ${twin.layout.dataDir}`,
    `Controller pid ${process.pid}, control endpoint ${twin.controlUrl} (found by \`rotor status\` through ${twin.layout.stateFile})`,
    dashboard ? `Dashboard  ${dashboard.openUrl}` : 'Dashboard  off (--no-dashboard)',
    '',
  ];
  for (const region of status.regions) {
    const active = activeOf('trade-matching') === region.region ? 'active' : 'standby';
    const broker = region.brokerKind === 'activemq' ? 'ActiveMQ' : 'embedded';
    const databases = Object.entries(region.databases).map(([name, location]) => `${name} ${location}`);
    const skipped = region.skippedFunctions.length > 0 ? `; ${region.skippedFunctions.length} of the manifest's have no handler module yet` : '';
    lines.push(
      `${region.region} (${active})  pid ${region.pid}  started in ${seconds(region.startupMs)}  ${region.rssMB ?? '?'} MB RSS`,
      `  DynamoDB    ${region.endpoints.dynamodb}  (global tables; the functions use this; dynalite behind it: ${region.endpoints.dynalite})`,
      `  Kinesis     ${region.endpoints.kinesis}`,
      `  MQ broker   ${region.endpoints.broker}  (${broker}${region.queuePrefix ? `, shared: this region's queues are ${region.queuePrefix}<queue>, e.g. ${region.queuePrefix}tm.trades` : ''})`,
      ...(databases.length > 0 ? [`  PostgreSQL  ${databases.join(', ')}`] : []),
      `  Lambda      ${region.functions ?? 0} functions${skipped}; Invoke API at ${region.endpoints.lambda}`,
      `  status      ${region.endpoints.status}/status`,
      `  data        ${region.dataDir}`,
      `  log         ${region.log}`,
    );
  }
  const modes = [...new Set(status.replication.tables.map((table) => table.mode))].join('/') || 'none';
  const aurora = Object.entries((status.components.aurora ?? {}) as Record<string, { writer: string }>);
  lines.push(
    '',
    'Global layer (in this process):',
    `  ARC cluster   ${status.arcEndpoints.map((endpoint) => endpoint.url).join(', ')}  (state in ${twin.layout.arcDir}; functions get them as ROUTING_CONTROL_ENDPOINTS)`,
    `  routing       trade-matching → ${activeOf('trade-matching')}, settlement → ${activeOf('settlement')}`,
    `  DynamoDB global tables: ${status.replication.tables.length} tables (${modes}), replication lag ${status.replication.lagMs} ms per direction`,
    ...(aurora.length > 0 ? [`  Aurora global databases: ${aurora.map(([name, db]) => `${name} (writer ${db.writer})`).join(', ')}`] : []),
    `  invoke        POST ${twin.controlUrl}/apps/<app>/functions/<name>/invocations (the app's active region)`,
    `                POST ${twin.controlUrl}/regions/<region>/functions/<name>/invocations`,
    '',
    describeGenerator(twin, status),
    `Memory: ${status.totalRssMB} MB RSS in total (controller ${status.controller.rssMB} MB + regions)`,
    'Ctrl-C stops everything. Try `rotor status`, `rotor region kill us-west-2`, `rotor region start us-west-2`.',
    '',
  );
  return lines.join('\n');
}

function describeGenerator(twin: RunningTwin, status: TwinStatus): string {
  const generator = status.generator;
  if (!generator) return 'Generator: off (start it with --rate R, or from the dashboard)';
  if (generator.state === 'unavailable') return `Generator: not running although --rate ${generator.rate} was given: ${generator.reason ?? 'unavailable'}`;
  const control = status.routingControls.find((candidate) => candidate.name === GENERATOR_CONTROL)?.state ?? 'Off';
  const region = generator.region ?? (() => {
    try {
      return twin.activeRegion('trade-matching');
    } catch {
      return 'the active trade-matching region';
    }
  })();
  const hint = control === 'On' ? 'now On' : 'now Off: turn it On to send';
  return `Generator: ${generator.rate} legs/s into ${region} (routing control ${GENERATOR_CONTROL}, ${hint})`;
}

/** Runs until SIGINT or SIGTERM, then stops the twin cleanly; a second signal exits at once. */
async function stoppedBySignal(twin: RunningTwin, io: CommandIO, beforeStop: () => Promise<void>): Promise<void> {
  const writeCpuProfile = await profileCpuIfAsked('controller');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const forceExit = () => process.exit(130);
  process.once('SIGINT', forceExit);
  process.once('SIGTERM', forceExit);
  io.out(`\n${signal}: stopping the regions, then the global layer…\n`);
  const began = performance.now();
  await beforeStop();
  await twin.stop();
  const profile = await writeCpuProfile();
  if (profile) io.out(`CPU profile of the controller: ${profile}\n`);
  io.out(`Twin stopped in ${seconds(Math.round(performance.now() - began))}; its data stays in ${twin.layout.dataDir}.\n`);
  process.off('SIGINT', forceExit);
  process.off('SIGTERM', forceExit);
}
