import {
  GetRoutingControlStateCommand,
  ListRoutingControlsCommand,
  Route53RecoveryClusterClient,
  Route53RecoveryClusterServiceException,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  type RoutingControl,
} from '@aws-sdk/client-route53-recovery-cluster';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';
import {
  RoutingControlNotFoundError,
  RoutingControlRequestError,
  RoutingControlsUnreachableError,
  SafetyRuleViolationError,
  type RoutingControlChange,
  type RoutingControls,
  type RoutingControlState,
  type RoutingControlStatus,
  type UpdateOptions,
} from '#shared/ports/routing-controls.ts';

/**
 * Routing controls over a Route 53 ARC cluster, the way AWS asks clients to use one: any of the cluster's
 * endpoints may be down, so each call tries them in turn with short timeouts, starting from the one that last
 * answered (a random one at first, so callers spread over the cluster). An endpoint that is unreachable, times out,
 * is temporarily unavailable, throttles or fails internally is skipped; an answer that is a verdict (a safety-rule
 * conflict, a validation error, an unknown control) is final, because every endpoint would give the same one.
 * Setting a state is idempotent, so an update that timed out at one endpoint may safely be sent to the next.
 */

export interface ClusterEndpointAddress {
  readonly url: string;
  /** The region the endpoint is in; requests to it are signed for that region. */
  readonly region: string;
}

export interface ArcRoutingControlsOptions {
  readonly endpoints: readonly ClusterEndpointAddress[];
  /** The SDK's default credential chain when omitted. */
  readonly credentials?: AwsCredentialIdentity;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** Only controls of this control panel are listed and resolved. */
  readonly controlPanelArn?: string;
  /** Picks the first endpoint tried; `Math.random` by default. */
  readonly random?: () => number;
}

/** Errors after which the next endpoint is worth trying: the cluster has not judged the request. */
const ENDPOINT_FAILURES = new Set(['EndpointTemporarilyUnavailableException', 'ThrottlingException', 'InternalServerException']);

/** Cluster endpoints as the ARC control plane lists them (`DescribeCluster` → `ClusterEndpoints`), in JSON. */
export function parseClusterEndpoints(json: string): ClusterEndpointAddress[] {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || parsed.length === 0) throw new RoutingControlRequestError('cluster endpoints must be a non-empty JSON list');
  return parsed.map((entry: { Endpoint?: unknown; Region?: unknown }) => {
    if (typeof entry?.Endpoint !== 'string' || typeof entry?.Region !== 'string') {
      throw new RoutingControlRequestError(`cluster endpoint ${JSON.stringify(entry)} needs an Endpoint and a Region`);
    }
    return { url: entry.Endpoint, region: entry.Region };
  });
}

export class ArcRoutingControls implements RoutingControls {
  private readonly clients: { readonly endpoint: ClusterEndpointAddress; readonly client: Route53RecoveryClusterClient }[];
  private readonly controlPanelArn: string | undefined;
  private nextEndpoint: number;
  private arnsByName = new Map<string, string>();

  constructor(options: ArcRoutingControlsOptions) {
    if (options.endpoints.length === 0) throw new RoutingControlRequestError('an ARC cluster needs at least one endpoint');
    const requestHandler = new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 1_000,
      requestTimeout: options.requestTimeoutMs ?? 2_000,
      throwOnRequestTimeout: true,
    });
    this.clients = options.endpoints.map((endpoint) => ({
      endpoint,
      client: new Route53RecoveryClusterClient({
        endpoint: endpoint.url,
        region: endpoint.region,
        requestHandler,
        // Failing over to the next endpoint is this class's retry; the SDK's own would only wait on a dead one.
        maxAttempts: 1,
        ...(options.credentials ? { credentials: options.credentials } : {}),
      }),
    }));
    this.controlPanelArn = options.controlPanelArn;
    this.nextEndpoint = Math.floor((options.random ?? Math.random)() * this.clients.length) % this.clients.length;
  }

  async getState(name: string): Promise<RoutingControlState> {
    return this.withArns([name], async ([arn]) => {
      const output = await this.send((client) => client.send(new GetRoutingControlStateCommand({ RoutingControlArn: arn })));
      return output.RoutingControlState as RoutingControlState;
    });
  }

  async list(): Promise<RoutingControlStatus[]> {
    const controls: RoutingControl[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.send((client) =>
        client.send(new ListRoutingControlsCommand({ ControlPanelArn: this.controlPanelArn, NextToken: nextToken })),
      );
      controls.push(...(page.RoutingControls ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    this.arnsByName = new Map(controls.map((control) => [control.RoutingControlName!, control.RoutingControlArn!]));
    return controls.map((control) => ({
      name: control.RoutingControlName!,
      arn: control.RoutingControlArn!,
      controlPanelName: control.ControlPanelName!,
      state: control.RoutingControlState as RoutingControlState,
    }));
  }

  async update(name: string, state: RoutingControlState, options: UpdateOptions = {}): Promise<void> {
    await this.withArns([name], ([arn]) =>
      this.send((client) =>
        client.send(
          new UpdateRoutingControlStateCommand({
            RoutingControlArn: arn,
            RoutingControlState: state,
            SafetyRulesToOverride: options.safetyRulesToOverride ? [...options.safetyRulesToOverride] : undefined,
          }),
        ),
      ),
    );
  }

  async updateMany(changes: readonly RoutingControlChange[], options: UpdateOptions = {}): Promise<void> {
    if (changes.length === 0) return;
    await this.withArns(
      changes.map((change) => change.name),
      (arns) =>
        this.send((client) =>
          client.send(
            new UpdateRoutingControlStatesCommand({
              UpdateRoutingControlStateEntries: changes.map((change, index) => ({ RoutingControlArn: arns[index], RoutingControlState: change.state })),
              SafetyRulesToOverride: options.safetyRulesToOverride ? [...options.safetyRulesToOverride] : undefined,
            }),
          ),
        ),
    );
  }

  destroy(): void {
    for (const { client } of this.clients) client.destroy();
  }

  /**
   * Runs `action` with the names' ARNs, listing the controls when a name is not cached yet. An ARN the cluster no
   * longer knows means the cache is stale (a control was recreated): the names are resolved afresh, once.
   */
  private async withArns<T>(names: readonly string[], action: (arns: string[]) => Promise<T>): Promise<T> {
    const fresh = names.some((name) => !this.arnsByName.has(name));
    if (fresh) await this.list();
    try {
      return await action(this.arnsOf(names));
    } catch (error) {
      if (fresh || !(error instanceof RoutingControlNotFoundError)) throw error;
      await this.list();
      return action(this.arnsOf(names));
    }
  }

  private arnsOf(names: readonly string[]): string[] {
    return names.map((name) => {
      const arn = this.arnsByName.get(name);
      if (!arn) throw new RoutingControlNotFoundError(name);
      return arn;
    });
  }

  private async send<T>(call: (client: Route53RecoveryClusterClient) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    const first = this.nextEndpoint;
    for (let attempt = 0; attempt < this.clients.length; attempt++) {
      const index = (first + attempt) % this.clients.length;
      const { endpoint, client } = this.clients[index]!;
      try {
        const output = await call(client);
        this.nextEndpoint = index;
        return output;
      } catch (error) {
        if (!isEndpointFailure(error)) throw verdictError(error);
        failures.push(`${endpoint.region} (${endpoint.url}): ${describe(error)}`);
      }
    }
    // Next time, start past the endpoint that failed first instead of waiting on it again.
    this.nextEndpoint = (first + 1) % this.clients.length;
    throw new RoutingControlsUnreachableError(failures);
  }
}

function isEndpointFailure(error: unknown): boolean {
  if (!(error instanceof Route53RecoveryClusterServiceException)) return true;
  return ENDPOINT_FAILURES.has(error.name) || (error.$metadata.httpStatusCode ?? 500) >= 500;
}

function verdictError(error: unknown): Error {
  if (!(error instanceof Route53RecoveryClusterServiceException)) return error as Error;
  switch (error.name) {
    case 'ConflictException':
      return new SafetyRuleViolationError(error.message, { cause: error });
    case 'ResourceNotFoundException':
      return new RoutingControlNotFoundError((error as { resourceId?: string }).resourceId ?? 'unknown', { cause: error });
    default:
      return new RoutingControlRequestError(`${error.name}: ${error.message}`, { cause: error });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `${error.name}${code ? ` ${code}` : ''}: ${error.message}`;
  }
  return String(error);
}
