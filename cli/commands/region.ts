import { parseArgs } from 'node:util';
import type { RegionAction } from '#local/controller/control-server.ts';
import { ControllerRequestError, TwinNotRunningError } from '#local/controller/errors.ts';
import { TwinClient } from '#local/controller/twin-client.ts';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import { type CommandIO, UsageError } from '../io.ts';

const HELP = `Usage: rotor region stop|kill|start <region> [--data-dir DIR]

Takes one region of the running twin down or brings it back, for outage drills:
  stop   SIGTERM: the region finishes in-flight batches, checkpoints and exits
  kill   SIGKILL: a sudden outage; only what the region wrote to disk survives
  start  starts it again on the same ports and data; replication catches up
While a region is down its endpoints (its DynamoDB global-table endpoint included) refuse connections.

Options:
  --data-dir DIR    the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  -h, --help        show this help
`;

const ACTIONS = new Set<RegionAction>(['stop', 'kill', 'start']);

export async function runRegion(args: string[], io: CommandIO): Promise<number> {
  let parsed: ReturnType<typeof parseRegionArgs>;
  try {
    parsed = parseRegionArgs(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) {
    io.out(HELP);
    return 0;
  }
  const [action, region, ...extra] = parsed.positionals;
  if (!action || !ACTIONS.has(action as RegionAction)) throw new UsageError(`expected stop, kill or start, got "${action ?? ''}"`);
  if (!region || extra.length > 0) throw new UsageError('name exactly one region, e.g. `rotor region kill us-west-2`');
  try {
    const client = await TwinClient.connect(parsed.values['data-dir'] ?? DEFAULT_TWIN_DATA_DIR);
    const began = performance.now();
    const result = await client.regionAction(region, action as RegionAction);
    const took = `${Math.round(performance.now() - began)} ms`;
    if (action === 'start') io.out(`${region} is up again (pid ${String(result.pid)}, ready in ${String(result.startupMs)} ms)\n`);
    else io.out(`${region} is down (${action === 'kill' ? 'SIGKILL' : 'SIGTERM'}, ${took}); its endpoints refuse connections until \`rotor region start ${region}\`\n`);
    return 0;
  } catch (error) {
    if (error instanceof TwinNotRunningError || error instanceof ControllerRequestError) {
      io.err(`rotor region: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parseRegionArgs(args: string[]) {
  return parseArgs({ args, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
}
