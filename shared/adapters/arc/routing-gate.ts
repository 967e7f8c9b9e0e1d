import { setTimeout as delay } from 'node:timers/promises';
import { RoutingControlsUnreachableError, type RoutingControls } from '#shared/ports/routing-controls.ts';
import { ArcRoutingControls, parseClusterEndpoints } from './arc-routing-controls.ts';
import { CachedRoutingControls } from './cached-routing-controls.ts';

/**
 * How a function asks "is my routing control On?" before it processes anything. Functions ask on every batch, so
 * answers are cached for a short time (one read per control per `ttlMs`, shared by concurrent callers): a flip is
 * seen within about `ttlMs`, and a busy function does not turn into load on the cluster.
 *
 * When no cluster endpoint answers, a control seen before keeps its last known state (static stability: an ARC
 * outage must not change which region processes). A control never seen reads as Off: a function that cannot learn
 * whether its region is active must not process, or two regions could both act on the same trades. That answer is
 * not logged (every invocation would log it during an outage); `lastError` says why, for metrics and health checks.
 */

export interface RoutingGateOptions {
  /** How long an answer is reused before the cluster is asked again (1000 ms by default). */
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export interface WaitUntilOnOptions {
  readonly maxWaitMs: number;
  readonly pollMs?: number;
  /** Aborting stops the wait, which then resolves false. */
  readonly signal?: AbortSignal;
}

/** Short enough that trying all five endpoints of a dead cluster fits well inside a function's invocation. */
const FUNCTION_CONNECTION_TIMEOUT_MS = 500;
const FUNCTION_REQUEST_TIMEOUT_MS = 1_000;

export class RoutingGate {
  /**
   * The gate for a function, from `ROUTING_CONTROL_ENDPOINTS` (the cluster's `ClusterEndpoints`, in JSON).
   * Undefined when the variable is not set, and the function then treats every control as On: unit tests run
   * handlers without a cluster, and a single-region deployment has no failover to gate.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): RoutingGate | undefined {
    const endpoints = env.ROUTING_CONTROL_ENDPOINTS;
    if (!endpoints) return undefined;
    return new RoutingGate(
      new ArcRoutingControls({
        endpoints: parseClusterEndpoints(endpoints),
        connectionTimeoutMs: FUNCTION_CONNECTION_TIMEOUT_MS,
        requestTimeoutMs: FUNCTION_REQUEST_TIMEOUT_MS,
      }),
    );
  }

  private readonly cached: CachedRoutingControls;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly answers = new Map<string, { readonly on: boolean; readonly answeredAt: number }>();
  private readonly reads = new Map<string, Promise<boolean>>();
  private unreachable: RoutingControlsUnreachableError | undefined;

  constructor(controls: RoutingControls, options: RoutingGateOptions = {}) {
    this.ttlMs = options.ttlMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.cached = new CachedRoutingControls(controls, this.now);
  }

  /** Why the last read could not reach the cluster; cleared by the next read that does. */
  get lastError(): RoutingControlsUnreachableError | undefined {
    return this.unreachable;
  }

  /**
   * Whether the control is On. A control the cluster does not know is a configuration error and rejects
   * (`RoutingControlNotFoundError`); only an unreachable cluster is answered from the last known state.
   */
  isOn(controlName: string): Promise<boolean> {
    const answer = this.answers.get(controlName);
    if (answer && this.now() - answer.answeredAt < this.ttlMs) return Promise.resolve(answer.on);
    let read = this.reads.get(controlName);
    if (!read) {
      read = this.read(controlName).finally(() => this.reads.delete(controlName));
      this.reads.set(controlName, read);
    }
    return read;
  }

  /**
   * Polls until the control is On (true) or `maxWaitMs` has passed (false), e.g. a standby function waiting to be
   * promoted within its invocation. Measured with the gate's clock.
   */
  async waitUntilOn(controlName: string, { maxWaitMs, pollMs = 1_000, signal }: WaitUntilOnOptions): Promise<boolean> {
    const deadline = this.now() + maxWaitMs;
    for (;;) {
      if (signal?.aborted) return false;
      if (await this.isOn(controlName)) return true;
      const remaining = deadline - this.now();
      if (remaining <= 0 || signal?.aborted) return false;
      try {
        await delay(Math.min(pollMs, remaining), undefined, signal ? { signal } : undefined);
      } catch (error) {
        if (signal?.aborted) return false;
        throw error;
      }
    }
  }

  private async read(controlName: string): Promise<boolean> {
    let on: boolean;
    try {
      const observed = await this.cached.getState(controlName);
      this.unreachable = observed.unreachable;
      on = observed.state === 'On';
    } catch (error) {
      if (!(error instanceof RoutingControlsUnreachableError)) throw error;
      this.unreachable = error;
      on = false;
    }
    // Answers from a dead cluster are cached too: asking it again on every call would cost each caller the
    // timeouts of all its endpoints.
    this.answers.set(controlName, { on, answeredAt: this.now() });
    return on;
  }
}
