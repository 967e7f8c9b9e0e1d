import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import type { Topology } from '#shared/topology/index.ts';
import { buildClusterConfiguration, type ClusterConfiguration, type SafetyRuleSpec } from './cluster-configuration.ts';
import { ClusterEndpoint, type EndpointFault } from './cluster-endpoint.ts';
import { ArcConfigurationError } from './errors.ts';
import { RoutingControlCluster } from './routing-control-cluster.ts';
import { RoutingControlStateStore } from './state-store.ts';

/**
 * The twin's Route 53 ARC cluster: N endpoints (five, like AWS) over one durable routing-control state. Chaos
 * stops and starts endpoints one by one, or makes them answer "temporarily unavailable" or "throttled".
 */

/** Where AWS places a cluster's five endpoints; the twin labels its endpoints the same way. */
const ENDPOINT_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1', 'ap-southeast-2'];
const DEFAULT_ENDPOINT_COUNT = 5;

export interface ArcEmulatorOptions {
  readonly dataDir: string;
  /** Rotor's regions; each gets its dns, queue and app controls. */
  readonly regions: readonly string[];
  readonly endpoints?: number;
  /** One port per endpoint; free ports when omitted. */
  readonly ports?: readonly number[];
  /** The region whose controls start On when there is no saved state; the first region unless given. */
  readonly activeRegion?: string;
  /** The generator control's state in a new cluster (default Off). */
  readonly generatorInitially?: 'On' | 'Off';
  /** Replaces Rotor's default safety rules. */
  readonly safetyRules?: readonly SafetyRuleSpec[];
  readonly topology?: Topology;
}

/** A cluster endpoint as AWS's `ClusterEndpoints` lists it: where to send requests, and the region to sign for. */
export interface ArcClusterEndpoint {
  readonly url: string;
  readonly region: string;
}

export interface RunningArcEmulator {
  readonly endpoints: readonly ArcClusterEndpoint[];
  /** The endpoints as AWS's `DescribeCluster` returns `ClusterEndpoints`, in JSON: what Rotor's functions are given. */
  readonly clusterEndpointsJson: string;
  readonly configuration: ClusterConfiguration;
  /** Closes endpoint `index`'s socket: clients get refused connections until it is started again. */
  stopEndpoint(index: number): Promise<void>;
  startEndpoint(index: number): Promise<void>;
  /** Makes endpoint `index` answer every request with the fault's AWS error; `undefined` clears it. */
  setEndpointFault(index: number, fault: EndpointFault | undefined): void;
  isEndpointRunning(index: number): boolean;
  /** Requests endpoint `index` has received since the emulator started. */
  endpointRequestCount(index: number): number;
  /** Every control's state by name. */
  states(): Record<string, RoutingControlState>;
  close(): Promise<void>;
}

export async function startArcEmulator(options: ArcEmulatorOptions): Promise<RunningArcEmulator> {
  const endpointCount = options.endpoints ?? options.ports?.length ?? DEFAULT_ENDPOINT_COUNT;
  if (!Number.isInteger(endpointCount) || endpointCount < 1) throw new ArcConfigurationError(`endpoints must be a positive integer, not ${endpointCount}`);
  if (options.ports && options.ports.length !== endpointCount) {
    throw new ArcConfigurationError(`${options.ports.length} ports given for ${endpointCount} endpoints`);
  }
  const configuration = buildClusterConfiguration({
    regions: options.regions,
    ...(options.activeRegion ? { activeRegion: options.activeRegion } : {}),
    ...(options.generatorInitially ? { generatorInitially: options.generatorInitially } : {}),
    ...(options.safetyRules ? { safetyRules: options.safetyRules } : {}),
    ...(options.topology ? { topology: options.topology } : {}),
  });
  const store = await RoutingControlStateStore.open(options.dataDir, configuration.routingControls);
  const cluster = new RoutingControlCluster(configuration, store);
  const endpoints = Array.from(
    { length: endpointCount },
    (_, index) => new ClusterEndpoint(ENDPOINT_REGIONS[index % ENDPOINT_REGIONS.length]!, cluster, options.ports?.[index] ?? 0),
  );
  try {
    // One at a time: free ports are picked as each endpoint binds.
    for (const endpoint of endpoints) await endpoint.start();
  } catch (error) {
    await Promise.all(endpoints.map((endpoint) => endpoint.stop()));
    throw error;
  }

  const endpointAt = (index: number) => {
    const endpoint = endpoints[index];
    if (!endpoint) throw new ArcConfigurationError(`there is no cluster endpoint ${index}; the cluster has ${endpoints.length}`);
    return endpoint;
  };
  return {
    endpoints: endpoints.map((endpoint) => ({ url: endpoint.url, region: endpoint.region })),
    clusterEndpointsJson: JSON.stringify(endpoints.map((endpoint) => ({ Endpoint: endpoint.url, Region: endpoint.region }))),
    configuration,
    stopEndpoint: (index) => endpointAt(index).stop(),
    startEndpoint: (index) => endpointAt(index).start(),
    setEndpointFault: (index, fault) => {
      endpointAt(index).fault = fault;
    },
    isEndpointRunning: (index) => endpointAt(index).running,
    endpointRequestCount: (index) => endpointAt(index).requestCount,
    states: () => cluster.states(),
    close: async () => {
      await Promise.all(endpoints.map((endpoint) => endpoint.stop()));
      await cluster.settled();
    },
  };
}
