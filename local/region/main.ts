/**
 * Runs one region of the twin as its own process:
 *   node --import tsx local/region/main.ts --region us-east-1 --data-dir .rotor/us-east-1
 *        [--topology rotor|demo|aurora] [--postgres-url URL] [--activemq-url stomp://host:port]
 *        [--kinesis-port N] [--dynamodb-port N] [--broker-port N] [--status-port N]
 *        [--poll-interval-ms N] [--retry-backoff-ms INITIAL:MAX] [--dynamodb-endpoint-for-functions URL]
 * Prints one JSON line (region, endpoints, start-up time per component, RSS) on stdout once every mapping runs;
 * logs go to stderr. SIGTERM / SIGINT stop it cleanly and exit 0; a second signal exits at once.
 */
import { parseArgs } from 'node:util';
import { RegionConfigurationError } from '#local/region/errors.ts';
import { startRegion, type RegionOptions } from '#local/region/region.ts';
import { regionLogger } from '#local/region/region-log.ts';
import { isTopologyName } from '#local/region/topologies.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const USAGE =
  'usage: main.ts --region REGION --data-dir DIR [--topology rotor|demo|aurora] [--postgres-url URL] [--activemq-url stomp://HOST:PORT]' +
  ' [--kinesis-port N] [--dynamodb-port N] [--broker-port N] [--status-port N] [--poll-interval-ms N] [--retry-backoff-ms INITIAL:MAX]' +
  ' [--dynamodb-endpoint-for-functions URL]';

function port(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) throw new RegionConfigurationError(`${flag} must be a port number, got ${value}`);
  return parsed;
}

function milliseconds(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new RegionConfigurationError(`${flag} must be a whole number of milliseconds, got ${value}`);
  return parsed;
}

function retryBackoff(value: string | undefined): RegionOptions['retryBackoff'] {
  if (value === undefined) return undefined;
  const [initial = '', max = initial] = value.split(':');
  return { initialMs: milliseconds(initial, '--retry-backoff-ms'), maxMs: milliseconds(max, '--retry-backoff-ms') };
}

function endpointUrl(value: string): string {
  if (!/^https?:\/\/[^/\s]+\/?$/.test(value)) throw new RegionConfigurationError(`--dynamodb-endpoint-for-functions must be an http(s) URL, got ${value}`);
  return value;
}

function parseOptions(argv: string[]): RegionOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      region: { type: 'string' },
      'data-dir': { type: 'string' },
      topology: { type: 'string', default: 'rotor' },
      'postgres-url': { type: 'string' },
      'activemq-url': { type: 'string' },
      'kinesis-port': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'broker-port': { type: 'string' },
      'status-port': { type: 'string' },
      'poll-interval-ms': { type: 'string' },
      'retry-backoff-ms': { type: 'string' },
      'dynamodb-endpoint-for-functions': { type: 'string' },
    },
  });
  if (!values.region || !values['data-dir']) throw new RegionConfigurationError('--region and --data-dir are required');
  if (!isTopologyName(values.topology)) throw new RegionConfigurationError(`--topology must be rotor, demo or aurora, got ${values.topology}`);
  return {
    region: values.region,
    dataDir: values['data-dir'],
    topology: values.topology,
    ...(values['postgres-url'] ? { postgresUrl: values['postgres-url'] } : {}),
    ...(values['activemq-url'] ? { activemqUrl: values['activemq-url'] } : {}),
    ...(values['poll-interval-ms'] ? { pollIntervalMs: milliseconds(values['poll-interval-ms'], '--poll-interval-ms') } : {}),
    ...(values['retry-backoff-ms'] ? { retryBackoff: retryBackoff(values['retry-backoff-ms']) } : {}),
    ...(values['dynamodb-endpoint-for-functions'] ? { dynamodbEndpointForFunctions: endpointUrl(values['dynamodb-endpoint-for-functions']) } : {}),
    ports: {
      kinesis: port(values['kinesis-port'], '--kinesis-port'),
      dynamodb: port(values['dynamodb-port'], '--dynamodb-port'),
      broker: port(values['broker-port'], '--broker-port'),
      status: port(values['status-port'], '--status-port'),
    },
  };
}

let options: RegionOptions;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(2);
}

const log = regionLogger(options.region);
// On AWS a stray rejection in a handler's background work ends that function's sandbox, not the region; the twin
// runs every function in this process, so it logs it and carries on.
process.on('unhandledRejection', (reason) => {
  log.error('unhandled rejection', { error: reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason) });
});
let region: Awaited<ReturnType<typeof startRegion>>;
try {
  region = await startRegion(options);
} catch (error) {
  log.error('cannot start the region', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
// `process`: from the process's start, module loading included, to ready.
process.stdout.write(`${JSON.stringify({ ...region.report, startupMs: { ...region.report.startupMs, process: Math.round(performance.now()) } })}\n`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info('stopping', { signal });
    region.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('stopping failed', { error: String(error) });
        process.exit(1);
      },
    );
  });
}
