import type { AppName } from '#shared/topology/schema.ts';
import type { RegionAction } from '#local/controller/control-server.ts';
import { ControllerRequestError, TwinNotRunningError } from '#local/controller/errors.ts';
import { activeRegionOf, invocationResult, type InvokeTarget } from '#local/controller/function-invoker.ts';
import { headerValue, post } from '#local/controller/http-post.ts';
import { DEFAULT_TWIN_DATA_DIR, TwinLayout } from '#local/controller/twin-layout.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import type { StartedExecution, StateMachineSummary, TwinExecution } from '#local/controller/twin-workflows.ts';

/** How `rotor status`, `rotor region` and the load tools reach a running twin: its controller.json, then its control endpoint. */

const STATUS_TIMEOUT_MS = 10_000;
// Starting a region waits for its ready line (PGlite takes seconds); stopping waits for in-flight batches.
const REGION_ACTION_TIMEOUT_MS = 120_000;
/** Lambda's longest function timeout. */
const MAX_INVOCATION_MS = 900_000;

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

  stateMachines(): Promise<StateMachineSummary[]> {
    return this.request('GET', '/state-machines', STATUS_TIMEOUT_MS);
  }

  /** StartExecution of a manifest state machine, in `region` or where its app is active. */
  startExecution(stateMachine: string, input: Record<string, unknown>, options: { name?: string; region?: string } = {}): Promise<StartedExecution> {
    return this.request('POST', `/state-machines/${encodeURIComponent(stateMachine)}/executions`, STATUS_TIMEOUT_MS, { input, ...options });
  }

  /** DescribeExecution, with the state-by-state history. */
  describeExecution(name: string): Promise<TwinExecution> {
    return this.request('GET', `/executions/${encodeURIComponent(name)}`, STATUS_TIMEOUT_MS);
  }

  stopExecution(name: string): Promise<{ stopped: boolean }> {
    return this.request('POST', `/executions/${encodeURIComponent(name)}/stop`, STATUS_TIMEOUT_MS);
  }

  /** The region whose `<app>-dns` routing control is On now; NoActiveRegionError / SeveralActiveRegionsError otherwise. */
  async activeRegion(app: AppName): Promise<string> {
    const status = await this.status();
    const states = Object.fromEntries(status.routingControls.map((control) => [control.name, control.state]));
    return activeRegionOf(app, status.regions.map((region) => region.region), states);
  }

  /**
   * Invokes a function synchronously (RequestResponse) in a region, or in an app's active region, and returns its
   * result. FunctionError when the function failed (threw, timed out); ControllerRequestError for any other
   * refusal (no such function, region down, no active region: 409).
   */
  async invoke<T>(functionName: string, payload: unknown, target: InvokeTarget, timeoutMs = MAX_INVOCATION_MS): Promise<T> {
    const path = 'app' in target ? `/apps/${target.app}` : `/regions/${encodeURIComponent(target.region)}`;
    let answer: Awaited<ReturnType<typeof post>>;
    try {
      answer = await post(`${this.controlUrl}${path}/functions/${encodeURIComponent(functionName)}/invocations`, JSON.stringify(payload ?? null), {
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw new ControllerRequestError(`invoking ${functionName} got no answer within ${timeoutMs} ms`, 504);
      throw this.notRunning(error);
    }
    return invocationResult<T>(functionName, {
      status: answer.status,
      functionError: headerValue(answer.headers, 'x-amz-function-error'),
      body: answer.body,
      region: headerValue(answer.headers, 'x-rotor-region'),
    });
  }

  private async request<T>(method: string, path: string, timeoutMs: number, payload?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.controlUrl}${path}`, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(payload === undefined ? {} : { body: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
      });
    } catch (error) {
      throw this.notRunning(error);
    }
    const body = (await response.json()) as T & { error?: string };
    if (!response.ok) throw new ControllerRequestError(body.error ?? `${method} ${path} failed with ${response.status}`, response.status);
    return body;
  }

  private notRunning(error: unknown): TwinNotRunningError {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    return new TwinNotRunningError(this.dataDir, `controller ${this.controllerPid} at ${this.controlUrl} does not answer: ${cause}`);
  }
}
