import { NoActiveRegionError, SeveralActiveRegionsError } from '#shared/adapters/edge/active-broker.ts';
import { regionalRoutingControlName, type RoutingControlState } from '#shared/ports/routing-controls.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { ControllerRequestError, FunctionError, RegionCommandError, RegionUnavailableError } from '#local/controller/errors.ts';
import { headerValue, post } from '#local/controller/http-post.ts';
import type { RegionSupervisor } from '#local/controller/region-supervisor.ts';

/**
 * Invoking a function of the twin from outside a region: in a named region, or in the region that serves an app
 * right now — the one whose `<app>-dns-<region>` routing control is On, as Route 53 would route a client. The
 * request goes to that region's Lambda Invoke API (its status server), so it meets the same warm function,
 * environment and timeout as an event-source mapping's invocations.
 */

export type InvokeTarget = { readonly region: string } | { readonly app: AppName };

export const APPS: readonly AppName[] = ['trade-matching', 'settlement'];

export const isAppName = (name: string): name is AppName => (APPS as readonly string[]).includes(name);

/** The region's answer, passed on as is: status, `X-Amz-Function-Error` and the body's text. */
export interface ProxiedInvocation {
  readonly region: string;
  readonly status: number;
  readonly functionError: string | undefined;
  readonly body: string;
}

/** The one region whose `<app>-dns` control is On; none or several is an error (Route 53 would have no answer). */
export function activeRegionOf(app: AppName, regions: readonly string[], states: Readonly<Record<string, RoutingControlState>>): string {
  const active = regions.filter((region) => states[regionalRoutingControlName(`${app}-dns`, region)] === 'On');
  if (active.length === 0) throw new NoActiveRegionError(app);
  if (active.length > 1) throw new SeveralActiveRegionsError(app, active);
  return active[0]!;
}

export interface FunctionInvokerDependencies {
  readonly regions: readonly string[];
  supervisorOf(region: string): RegionSupervisor;
  /** Every routing control's state, as the ARC cluster holds it now. */
  controlStates(): Readonly<Record<string, RoutingControlState>>;
}

export class FunctionInvoker {
  constructor(private readonly dependencies: FunctionInvokerDependencies) {}

  regionOf(target: InvokeTarget): string {
    if ('app' in target) return activeRegionOf(target.app, this.dependencies.regions, this.dependencies.controlStates());
    if (!this.dependencies.regions.includes(target.region)) {
      throw new RegionCommandError(`region ${target.region} is not part of this twin (${this.dependencies.regions.join(', ')})`);
    }
    return target.region;
  }

  /** Sends the payload's bytes untouched; the region judges them (400 when not JSON). */
  async invokeRaw(target: InvokeTarget, functionName: string, payload: string | Buffer, signal?: AbortSignal): Promise<ProxiedInvocation> {
    const region = this.regionOf(target);
    const supervisor = this.dependencies.supervisorOf(region);
    const report = supervisor.report;
    if (supervisor.state !== 'up' || !report) throw new RegionUnavailableError(region, `is ${supervisor.state}`);
    const url = `${report.endpoints.status}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
    let answer: Awaited<ReturnType<typeof post>>;
    try {
      answer = await post(url, payload, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RegionUnavailableError(region, `does not answer at ${report.endpoints.status} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return { region, status: answer.status, functionError: headerValue(answer.headers, 'x-amz-function-error'), body: answer.body };
  }

  /** The function's result; FunctionError when it failed, ControllerRequestError when the region refused the call. */
  async invoke<T>(target: InvokeTarget, functionName: string, payload: unknown, signal?: AbortSignal): Promise<{ region: string; result: T }> {
    const answer = await this.invokeRaw(target, functionName, JSON.stringify(payload ?? null), signal);
    return { region: answer.region, result: invocationResult<T>(functionName, answer) };
  }
}

/** Reads an Invoke API answer the way the AWS SDK's callers do; shared by the in-process and the HTTP client. */
export function invocationResult<T>(functionName: string, answer: Omit<ProxiedInvocation, 'region'> & { region?: string | undefined }): T {
  const parsed = parseJson(answer.body);
  if (answer.functionError !== undefined) {
    const { errorType, errorMessage } = (parsed ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    throw new FunctionError(functionName, String(errorType ?? answer.functionError), String(errorMessage ?? answer.body), answer.region);
  }
  if (answer.status < 200 || answer.status >= 300) {
    const { error, errorMessage, errorType } = (parsed ?? {}) as { error?: unknown; errorMessage?: unknown; errorType?: unknown };
    const message = error ?? (errorMessage === undefined ? undefined : `${String(errorType ?? 'Error')}: ${String(errorMessage)}`);
    throw new ControllerRequestError(String(message ?? `invoking ${functionName} failed with HTTP ${answer.status}`), answer.status);
  }
  return parsed as T;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
