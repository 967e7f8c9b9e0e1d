/**
 * Runs the twin's ARC cluster on its own:
 *   node --import tsx local/global/arc/main.ts --data-dir .rotor/arc [--regions us-east-1,us-west-2]
 *        [--active-region REGION] [--endpoints 5] [--ports P1,P2,...]
 * Prints one JSON line on stdout once every endpoint listens: the cluster endpoints in AWS's `ClusterEndpoints`
 * shape and every control's state. SIGTERM / SIGINT stop it and exit 0.
 */
import { parseArgs } from 'node:util';
import { topology } from '#shared/topology/index.ts';
import { startArcEmulator, type ArcEmulatorOptions } from './emulator.ts';
import { ArcConfigurationError } from './errors.ts';

const USAGE = 'usage: main.ts --data-dir DIR [--regions R1,R2] [--active-region R] [--endpoints N] [--ports P1,P2,...]';

function parseOptions(argv: string[]): ArcEmulatorOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      regions: { type: 'string' },
      'active-region': { type: 'string' },
      endpoints: { type: 'string' },
      ports: { type: 'string' },
    },
  });
  if (!values['data-dir']) throw new ArcConfigurationError('--data-dir is required');
  const ports = values.ports?.split(',').map((text) => {
    const port = Number(text);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ArcConfigurationError(`--ports holds ${text}, not a port number`);
    return port;
  });
  const endpoints = values.endpoints === undefined ? undefined : Number(values.endpoints);
  return {
    dataDir: values['data-dir'],
    regions: values.regions?.split(',') ?? topology.regions,
    ...(values['active-region'] ? { activeRegion: values['active-region'] } : {}),
    ...(endpoints !== undefined ? { endpoints } : {}),
    ...(ports ? { ports } : {}),
  };
}

let options: ArcEmulatorOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(2);
}

let arc: Awaited<ReturnType<typeof startArcEmulator>>;
try {
  arc = await startArcEmulator(options);
} catch (error) {
  process.stderr.write(`cannot start the ARC emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ clusterEndpoints: JSON.parse(arc.clusterEndpointsJson), routingControls: arc.states() })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void arc.close().then(() => process.exit(0));
  });
}
