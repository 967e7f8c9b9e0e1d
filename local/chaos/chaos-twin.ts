import type { RegionReadyReport } from '#local/region/region.ts';
import type { AppName } from '#shared/topology/schema.ts';
import type { RegionFaultInput } from '#local/chaos/fault-plan.ts';

/** What the chaos controller needs of a running twin; the controller (local/controller/controller.ts) provides it. */
export interface ChaosTwin {
  readonly regions: readonly string[];
  activeRegion(app: AppName): string;
  region(region: string): { readonly state: string; readonly report?: RegionReadyReport | undefined };
  killRegion(region: string): Promise<unknown>;
  startRegion(region: string): Promise<unknown>;
  readonly globalTables: {
    pause(from?: string, to?: string): void;
    resume(from?: string, to?: string): void;
    setRequestFault(fault: ((region: string, operation: string) => boolean) | undefined): void;
  };
  /** The Aurora Global Databases' change shipping (every database, every direction). */
  readonly auroraShipping: { pause(): void; resume(): void };
  readonly arc: {
    readonly endpoints: readonly unknown[];
    stopEndpoint(index: number): Promise<void>;
    startEndpoint(index: number): Promise<void>;
    isEndpointRunning(index: number): boolean;
  };
  /** `stomp://…` of the region's broker and the name a manifest queue has on it. */
  brokerUrl(region: string): string;
  queueName(region: string, queue: string): string;
}

export class ChaosRegionError extends Error {
  override readonly name = 'ChaosRegionError';
}

/** The regions that are up, with their status server (where /chaos/faults lives). */
export function upRegions(twin: ChaosTwin): Array<{ region: string; statusUrl: string }> {
  return twin.regions.flatMap((region) => {
    const supervisor = twin.region(region);
    return supervisor.state === 'up' && supervisor.report ? [{ region, statusUrl: supervisor.report.endpoints.status }] : [];
  });
}

export async function postRegionFault(statusUrl: string, fault: RegionFaultInput): Promise<void> {
  const response = await fetch(`${statusUrl}/chaos/faults`, { method: 'POST', body: JSON.stringify(fault), headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new ChaosRegionError(`${statusUrl} refused fault ${fault.id}: ${response.status} ${await response.text()}`);
}

/** Removes the fault; a region that is down has nothing to remove (a restarted region starts with no faults). */
export async function deleteRegionFault(statusUrl: string, id: string): Promise<void> {
  await fetch(`${statusUrl}/chaos/faults/${encodeURIComponent(id)}`, { method: 'DELETE', signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
}

export async function regionFaults(statusUrl: string): Promise<Array<{ id: string; kind: string; strikes: number }>> {
  const response = await fetch(`${statusUrl}/chaos/faults`, { signal: AbortSignal.timeout(5_000) });
  return ((await response.json()) as { faults: Array<{ id: string; kind: string; strikes: number }> }).faults;
}
