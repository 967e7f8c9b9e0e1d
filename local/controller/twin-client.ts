import type { RegionAction } from '#local/controller/control-server.ts';
import { ControllerRequestError, TwinNotRunningError } from '#local/controller/errors.ts';
import { DEFAULT_TWIN_DATA_DIR, TwinLayout } from '#local/controller/twin-layout.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';

/** How `rotor status` and `rotor region` reach a running twin: its controller.json, then its control endpoint. */

const STATUS_TIMEOUT_MS = 10_000;
// Starting a region waits for its ready line (PGlite takes seconds); stopping waits for in-flight batches.
const REGION_ACTION_TIMEOUT_MS = 120_000;

export class TwinClient {
  private constructor(
    readonly dataDir: string,
    readonly controlUrl: string,
    readonly controllerPid: number,
  ) {}

  /** The twin running on `dataDir`; TwinNotRunningError when there is none (or its controller is gone). */
  static async connect(dataDir = DEFAULT_TWIN_DATA_DIR): Promise<TwinClient> {
    const layout = new TwinLayout(dataDir);
    const state = await layout.readState();
    if (!state) throw new TwinNotRunningError(layout.dataDir);
    return new TwinClient(layout.dataDir, state.controlUrl, state.pid);
  }

  status(): Promise<TwinStatus> {
    return this.request<TwinStatus>('GET', '/status', STATUS_TIMEOUT_MS);
  }

  regionAction(region: string, action: RegionAction): Promise<Record<string, unknown>> {
    return this.request('POST', `/regions/${encodeURIComponent(region)}/${action}`, REGION_ACTION_TIMEOUT_MS);
  }

  private async request<T>(method: string, path: string, timeoutMs: number): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.controlUrl}${path}`, { method, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new TwinNotRunningError(this.dataDir, `controller ${this.controllerPid} at ${this.controlUrl} does not answer: ${cause}`);
    }
    const body = (await response.json()) as T & { error?: string };
    if (!response.ok) throw new ControllerRequestError(body.error ?? `${method} ${path} failed with ${response.status}`, response.status);
    return body;
  }
}
