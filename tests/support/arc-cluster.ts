import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Route53RecoveryClusterClient, paginateListRoutingControls, type RoutingControl } from '@aws-sdk/client-route53-recovery-cluster';
import { startArcEmulator, type ArcEmulatorOptions, type RunningArcEmulator } from '#local/global/arc/emulator.ts';
import { ArcRoutingControls, parseClusterEndpoints, type ArcRoutingControlsOptions } from '#shared/adapters/arc/arc-routing-controls.ts';

/** Starts ARC emulators on scratch data directories and builds SDK clients and adapters against them. */

export const REGIONS = ['us-east-1', 'us-west-2'] as const;
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export class ArcTestBench {
  private readonly directories: string[] = [];
  private readonly emulators: RunningArcEmulator[] = [];
  private readonly clients: { destroy(): void }[] = [];

  async dataDir(): Promise<string> {
    const directory = await mkdtemp(path.join(tmpdir(), 'rotor-arc-'));
    this.directories.push(directory);
    return directory;
  }

  async start(options: Partial<ArcEmulatorOptions> = {}): Promise<RunningArcEmulator> {
    const emulator = await startArcEmulator({ dataDir: options.dataDir ?? (await this.dataDir()), regions: REGIONS, ...options });
    this.emulators.push(emulator);
    return emulator;
  }

  /** A plain SDK client on one endpoint, with the SDK's retries off so each call is one request. */
  sdkClient(emulator: RunningArcEmulator, endpointIndex = 0): Route53RecoveryClusterClient {
    const endpoint = emulator.endpoints[endpointIndex]!;
    const client = new Route53RecoveryClusterClient({ endpoint: endpoint.url, region: endpoint.region, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    this.clients.push(client);
    return client;
  }

  /**
   * The adapter, configured as Rotor's functions are (from the cluster's `ClusterEndpoints` JSON), starting at
   * endpoint 0 unless told otherwise, with timeouts short enough for tests.
   */
  adapter(emulator: RunningArcEmulator, options: Partial<ArcRoutingControlsOptions> = {}): ArcRoutingControls {
    const adapter = new ArcRoutingControls({
      endpoints: parseClusterEndpoints(emulator.clusterEndpointsJson),
      credentials: TEST_CREDENTIALS,
      connectionTimeoutMs: 300,
      requestTimeoutMs: 300,
      random: () => 0,
      ...options,
    });
    this.clients.push(adapter);
    return adapter;
  }

  async cleanUp(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
    await Promise.all(this.emulators.splice(0).map((emulator) => emulator.close()));
    await Promise.all(this.directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })));
  }
}

export async function listAllRoutingControls(client: Route53RecoveryClusterClient, pageSize?: number, controlPanelArn?: string) {
  const controls: RoutingControl[] = [];
  let pages = 0;
  for await (const page of paginateListRoutingControls({ client, pageSize }, { ControlPanelArn: controlPanelArn })) {
    pages++;
    controls.push(...(page.RoutingControls ?? []));
  }
  return { controls, pages };
}

/** The ARN of each control, by name. */
export function arnsByName(emulator: RunningArcEmulator): (name: string) => string {
  return (name) => {
    const control = emulator.configuration.routingControls.find((candidate) => candidate.name === name);
    if (!control) throw new Error(`the emulator has no routing control ${name}`);
    return control.arn;
  };
}

export function safetyRuleArn(emulator: RunningArcEmulator, name: string): string {
  const rule = emulator.configuration.safetyRules.find((candidate) => candidate.name === name);
  if (!rule) throw new Error(`the emulator has no safety rule ${name}`);
  return rule.arn;
}
