import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import { RegionConfigurationError } from '#local/region/errors.ts';
import type { RegionOptions } from '#local/region/region.ts';
import { isTopologyName } from '#local/region/topologies.ts';
import { EdgeBrokers } from '#shared/pipeline/outbound-destinations.ts';

/** The command line of a region process (`local/region/main.ts`). */

/**
 * Where the controller puts the region's PostgreSQL URLs (the `--postgres-urls` JSON) instead of on the command
 * line, which every local user can read, passwords and all.
 */
export const POSTGRES_URLS_VARIABLE = 'ROTOR_POSTGRES_URLS';

export const REGION_USAGE =
  'usage: main.ts --region REGION --data-dir DIR [--topology rotor|demo|aurora]' +
  ' [--postgres-urls JSON] (one PostgreSQL URL per manifest database, e.g. {"tm-db":"postgres://…/a","sm-db":"postgres://…/b"};' +
  ` or the same JSON in ${POSTGRES_URLS_VARIABLE})` +
  ' [--activemq-url stomp://HOST:PORT] [--queue-prefix PREFIX] (e.g. us-east-1. when regions share one broker)' +
  ' [--arc-endpoints JSON] (the ARC cluster endpoints, [{"Endpoint":"http://127.0.0.1:P","Region":"us-east-1"},…])' +
  ' [--rds-endpoint URL] (the twin\'s RDS API, given to functions as AWS_ENDPOINT_URL_RDS)' +
  ' [--edge-brokers JSON] (every region\'s broker, {"us-east-1":{"url":"stomp://…","queuePrefix":""},…}, given to functions as EDGE_BROKERS)' +
  ' [--kinesis-port N] [--dynamodb-port N] [--broker-port N] [--status-port N] [--code-root DIR]' +
  ' [--poll-interval-ms N] [--retry-backoff-ms INITIAL:MAX] [--dynamodb-endpoint-for-functions URL]';

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

function edgeBrokers(value: string): string {
  try {
    EdgeBrokers.parse(JSON.parse(value));
  } catch (error) {
    throw new RegionConfigurationError(`--edge-brokers must be {"<region>":{"url":"stomp://…","queuePrefix":"…"},…}: ${(error as Error).message}`);
  }
  return value;
}

function endpointUrl(value: string, flag = '--dynamodb-endpoint-for-functions'): string {
  if (!/^https?:\/\/[^/\s]+\/?$/.test(value)) throw new RegionConfigurationError(`${flag} must be an http(s) URL, got ${value}`);
  return value;
}

function postgresUrls(value: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new RegionConfigurationError(`--postgres-urls must be a JSON object of database name → URL, got ${value}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((url) => typeof url === 'string')) {
    throw new RegionConfigurationError('--postgres-urls must be a JSON object of database name → URL');
  }
  return parsed as Record<string, string>;
}

function arcEndpoints(value: string): string {
  try {
    parseClusterEndpoints(value);
  } catch (error) {
    throw new RegionConfigurationError(`--arc-endpoints: ${(error as Error).message}`);
  }
  return value;
}

/** The region's command line (and environment) as `startRegion` options; RegionConfigurationError when invalid. */
export function parseRegionArguments(argv: string[], env: NodeJS.ProcessEnv = process.env): RegionOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      region: { type: 'string' },
      'data-dir': { type: 'string' },
      topology: { type: 'string', default: 'rotor' },
      'postgres-urls': { type: 'string' },
      'activemq-url': { type: 'string' },
      'queue-prefix': { type: 'string' },
      'arc-endpoints': { type: 'string' },
      'rds-endpoint': { type: 'string' },
      'edge-brokers': { type: 'string' },
      'code-root': { type: 'string' },
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
  const postgresUrlsText = values['postgres-urls'] ?? env[POSTGRES_URLS_VARIABLE];
  return {
    region: values.region,
    dataDir: values['data-dir'],
    topology: values.topology,
    ...(postgresUrlsText ? { postgresUrls: postgresUrls(postgresUrlsText) } : {}),
    ...(values['activemq-url'] ? { activemqUrl: values['activemq-url'] } : {}),
    ...(values['queue-prefix'] ? { queuePrefix: values['queue-prefix'] } : {}),
    ...(values['arc-endpoints'] ? { arcEndpoints: arcEndpoints(values['arc-endpoints']) } : {}),
    ...(values['rds-endpoint'] ? { rdsEndpoint: endpointUrl(values['rds-endpoint'], '--rds-endpoint') } : {}),
    ...(values['edge-brokers'] ? { edgeBrokers: edgeBrokers(values['edge-brokers']) } : {}),
    ...(values['code-root'] ? { codeRoot: path.resolve(values['code-root']) } : {}),
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

