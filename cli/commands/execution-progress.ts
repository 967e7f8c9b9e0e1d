import type { TwinExecution } from '#local/controller/twin-workflows.ts';
import type { ExecutionEvent } from '#local/stepfunctions/execution.ts';

/** How `rotor reconcile` and `rotor rotate` follow a workflow execution: state by state, with elapsed times. */

const POLL_MS = 500;

/** Polls DescribeExecution, reporting each new event once, until the execution ends or time runs out. */
export async function followExecution(
  name: string,
  timeoutMs: number,
  describe: (name: string) => Promise<TwinExecution>,
  onEvent: (event: ExecutionEvent) => void,
): Promise<TwinExecution> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    const execution = await describe(name);
    for (const event of execution.events.filter((candidate) => candidate.id > seen)) onEvent(event);
    seen = Math.max(seen, ...execution.events.map((event) => event.id));
    if (execution.status !== 'RUNNING' || Date.now() >= deadline) return execution;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One line per Task or Wait state finished, failed or retried, with the time since the execution began; Pass and Choice states stay quiet. */
export function progressLine(event: ExecutionEvent, startedAt: string): string {
  const at = `${((Date.parse(event.timestamp) - Date.parse(startedAt)) / 1000).toFixed(1).padStart(6)} s`;
  const took = event.durationMs === undefined ? '' : ` (${(event.durationMs / 1000).toFixed(1)} s)`;
  const output = (event.output ?? {}) as Record<string, unknown>;
  if (event.type === 'StateRetried') return `${at}  ↻ ${event.stateName}: ${event.error ?? ''} ${firstLine(event.cause)}\n`;
  if (event.type === 'StateFailed') return `${at}  ✗ ${event.stateName}: ${event.error ?? ''} ${firstLine(event.cause)}${took}\n`;
  if (event.type === 'ExecutionFailed') return `${at}  ✗ ${event.error ?? 'failed'}: ${firstLine(event.cause)}\n`;
  if (event.type !== 'StateExited' || (event.stateType !== 'Task' && event.stateType !== 'Fail')) return '';
  return `${at}  ✓ ${event.stateName}${took}${detailOf(event.stateName ?? '', output)}\n`;
}

function detailOf(stateName: string, output: Record<string, unknown>): string {
  const reconciled = output.reconciled as { checked?: number; missing?: number; pairs?: Array<{ pair: string; missing: number }> } | undefined;
  if (/Reconcile$/.test(stateName) && reconciled) {
    const pass = (output.counter as { pass?: number } | undefined)?.pass ?? output.pass;
    const gaps = (reconciled.pairs ?? []).filter((pair) => pair.missing > 0).map((pair) => `${pair.pair} ${pair.missing}`);
    return ` — pass ${String(pass ?? '?')}: ${reconciled.checked ?? 0} checked, ${reconciled.missing ?? 0} missing${gaps.length ? ` (${gaps.join(', ')})` : ''}`;
  }
  if (stateName === 'DrainPipeline') {
    const drain = output.drain as { checked?: number; missing?: number } | undefined;
    return drain ? ` — ${drain.checked ?? 0} checked, ${drain.missing ?? 0} still in flight` : '';
  }
  if (stateName === 'Replay') return ` — ${((output.replayed ?? {}) as { replayed?: number }).replayed ?? 0} re-sent`;
  const routing = output.routing as { controls?: Record<string, Record<string, string>> } | undefined;
  if (routing?.controls && /Target|Source|Routing/.test(stateName)) {
    return ` — ${Object.entries(routing.controls).map(([kind, regions]) => `${kind} ${Object.entries(regions).filter(([, state]) => state === 'On').map(([region]) => region).join('+') || 'none'}`).join(', ')}`;
  }
  const switchover = output.switchover as { status?: string } | undefined;
  if (/Switchover/.test(stateName) && switchover) return ` — ${switchover.status ?? ''}`;
  if (/Digest/.test(stateName)) {
    const digest = (output.digestAfter ?? output.digestBefore) as { digest?: string } | undefined;
    return digest?.digest ? ` — ${digest.digest.slice(0, 16)}…` : '';
  }
  const canary = output.canaryResult as { elapsedMs?: number } | undefined;
  if (stateName === 'CheckCanary' && canary) return ` — SETTLED ${canary.elapsedMs ?? '?'} ms after submission`;
  return '';
}

const firstLine = (text: string | undefined) => (text ?? '').split('\n')[0]!.slice(0, 200);
