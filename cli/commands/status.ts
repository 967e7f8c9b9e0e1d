import type { AuroraDatabaseStatus } from '#local/controller/aurora-global-databases.ts';
import { TwinNotRunningError } from '#local/controller/errors.ts';
import { TwinClient } from '#local/controller/twin-client.ts';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import { readDashboardAccess } from '#local/dashboard/server.ts';
import { type CommandIO, parseOptions } from '../io.ts';

const HELP = `Usage: rotor status [--json] [--data-dir DIR]

Asks the running twin (started by \`rotor up\`) for: every region (up or down, pid, start-up time, memory, items per
pipeline stage's safe store and per other table, event-source mapping iterator ages or queue depths), the ARC
routing controls and their states, DynamoDB global-table replication per direction (state, backlog, oldest pending
change, replication latency per table), the Aurora global databases, the generator loop and the dashboard's
address (with its token, as \`rotor up\` printed it).
JSON: per region \`stages\` ({"<safe-store table>": items}), \`tableItems\` (every table), \`queuePrefix\` (put before
every queue name on the region's broker; '' unless regions share one broker), \`dashboard\` ({url, openUrl}, or null
when the twin serves none).
Exits 1 when no twin runs on the data directory.

Options:
  --json            print the status as JSON
  --data-dir DIR    the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  -h, --help        show this help
`;

export async function runStatus(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const dataDir = options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR;
  let status: TwinStatus;
  try {
    status = await (await TwinClient.connect(dataDir)).status();
  } catch (error) {
    if (!(error instanceof TwinNotRunningError)) throw error;
    if (options.json) io.out(`${JSON.stringify({ running: false, dataDir: error.dataDir })}\n`);
    io.err(`rotor status: ${error.message}\n`);
    return 1;
  }
  const access = await readDashboardAccess(dataDir);
  const dashboard = access && { url: access.url, openUrl: access.openUrl };
  io.out(options.json ? `${JSON.stringify({ running: true, ...status, dashboard }, null, 2)}\n` : `${formatStatus(status)}${dashboard ? `\nDashboard  ${dashboard.openUrl}\n` : ''}`);
  return 0;
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
const duration = (ms: number | null) => {
  if (ms === null) return '-';
  const total = Math.round(ms / 1000);
  return total < 60 ? `${total}s` : `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
};

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

export function formatStatus(status: TwinStatus): string {
  const regions = status.regions.map((region) => region.region);
  const lines = [
    `Twin on ${status.controller.dataDir} — controller pid ${status.controller.pid}, up ${duration(status.controller.uptimeMs)}, ${status.totalRssMB} MB RSS in total`,
    '',
    ...table([
      ['REGION', 'STATE', 'PID', 'START-UP', 'RSS', 'UPTIME', 'DYNAMODB (functions)', 'NOTE'],
      ...status.regions.map((region) => [
        region.region,
        region.state,
        region.pid === null ? '-' : String(region.pid),
        seconds(region.startupMs),
        region.rssMB === null ? '-' : `${region.rssMB} MB`,
        duration(region.uptimeMs),
        region.endpoints.dynamodb,
        region.state === 'down' && region.lastExit
          ? `${region.lastExit.requested ? 'stopped' : 'died'} (${region.lastExit.signal ?? `exit ${region.lastExit.code}`}) at ${region.lastExit.at}`
          : '',
      ]),
    ]),
  ];

  const shared = status.regions.filter((region) => region.queuePrefix);
  if (shared.length > 0) {
    lines.push('', `Shared broker: queues are prefixed per region (${shared.map((region) => `${region.region} → ${region.queuePrefix}<queue>`).join(', ')})`);
  }

  const count = (items: Record<string, number> | null, name: string) => (items?.[name] === undefined ? '-' : String(items[name]));
  const stageNames = [...new Set(status.regions.flatMap((region) => Object.keys(region.stages ?? {})))];
  if (stageNames.length > 0) {
    lines.push('', ...table([
      ['STAGE (safe-store items)', ...regions],
      ...stageNames.map((name) => [stageLabel(name), ...status.regions.map((region) => count(region.stages, name))]),
    ]));
  }
  const tableNames = [...new Set(status.regions.flatMap((region) => Object.keys(region.tableItems ?? {})))].filter((name) => !stageNames.includes(name));
  if (tableNames.length > 0) {
    lines.push('', ...table([
      ['TABLE ITEMS', ...regions],
      ...tableNames.map((name) => [name, ...status.regions.map((region) => count(region.tableItems, name))]),
    ]));
  }

  const mappings = status.regions.flatMap((region) => region.mappings.map((mapping) => ({ region: region.region, ...mapping })));
  lines.push('');
  if (mappings.length === 0) lines.push('Event-source mappings: none running (the pipeline functions arrive with their issue).');
  else {
    lines.push(...table([
      ['MAPPING', 'REGION', 'STATE', 'ITERATOR AGE / QUEUE DEPTH'],
      ...mappings.map((mapping) => [
        mapping.mappingId,
        mapping.region,
        mapping.state,
        mapping.iteratorAgeMs !== undefined ? `${mapping.iteratorAgeMs} ms` : mapping.queueDepth !== undefined ? `${mapping.queueDepth} waiting` : '-',
      ]),
    ]));
  }

  const controls = new Map<string, Record<string, string>>();
  for (const control of status.routingControls) {
    const region = regions.find((candidate) => control.name.endsWith(`-${candidate}`));
    const base = region ? control.name.slice(0, -region.length - 1) : control.name;
    controls.set(base, { ...controls.get(base), [region ?? 'global']: control.state });
  }
  const upEndpoints = status.arcEndpoints.filter((endpoint) => endpoint.running).length;
  lines.push('', `Routing controls (ARC cluster, ${upEndpoints} of ${status.arcEndpoints.length} endpoints up):`, ...table([
    ['CONTROL', ...regions],
    ...[...controls].map(([base, states]) => [base, ...(states.global ? [`${states.global} (global)`] : regions.map((region) => states[region] ?? '-'))]),
  ]).map((line) => `  ${line}`));

  lines.push('', `DynamoDB global tables (${status.replication.tables.length} tables, replication lag ${status.replication.lagMs} ms per direction):`);
  for (const direction of status.replication.directions) {
    lines.push(`  ${direction.from} → ${direction.to}  ${direction.state}  backlog ${direction.backlog}  oldest pending ${direction.oldestPendingAgeMs} ms  shipped ${direction.shipped}`);
    for (const [name, metrics] of Object.entries(direction.tables)) {
      if (metrics.replicated === 0 && metrics.backlog === 0) continue;
      lines.push(`      ${name}: backlog ${metrics.backlog}, ReplicationLatency last ${metrics.lastLatencyMs} ms, avg ${metrics.averageLatencyMs} ms, max ${metrics.maxLatencyMs} ms over ${metrics.replicated}`);
    }
  }
  if (status.generator) {
    const g = status.generator;
    const where = g.region ? ` into ${g.region}` : '';
    lines.push('', `Generator: ${g.rate} legs/s${where}, ${g.state}${g.reason ? ` (${g.reason})` : ''}; ${g.runs} runs, ${g.legsSent} legs sent${g.lastError ? `; last error: ${g.lastError}` : ''}`);
  }
  for (const [name, component] of Object.entries(status.components)) {
    if (name === 'aurora') lines.push(...describeAurora(component as Record<string, AuroraDatabaseStatus>));
    else lines.push('', `${name}: ${JSON.stringify(component)}`);
  }
  return `${lines.join('\n')}\n`;
}

const APP_PREFIXES: Record<string, string> = { tm: 'trade-matching', sm: 'settlement' };

/** `tm-ingestion-store` → `trade-matching ingestion`: the row an operator reads; other names stay as they are. */
function stageLabel(table: string): string {
  const match = /^([a-z]+)-(.+)-store$/.exec(table);
  const app = match && APP_PREFIXES[match[1]!];
  return app ? `${app} ${match[2]}` : table;
}

function describeAurora(databases: Record<string, AuroraDatabaseStatus>): string[] {
  const lines = ['', 'Aurora global databases (AuroraGlobalDBRPOLag = the worst secondary):'];
  for (const [name, db] of Object.entries(databases)) {
    const detached = db.detached.length > 0 ? `  detached ${db.detached.join(', ')}` : '';
    lines.push(`  ${name}  writer ${db.writer}  secondaries ${db.secondaries.join(', ') || '-'}${detached}  RPO lag ${db.rpoLagMs} ms`);
    for (const r of db.replication) {
      lines.push(`      → ${r.region}: applied LSN ${r.appliedLsn}, backlog ${r.backlog}, lag ${r.lagMs} ms${r.paused ? ', paused' : ''}${r.lastError ? `, last error: ${r.lastError}` : ''}`);
    }
  }
  return lines;
}
