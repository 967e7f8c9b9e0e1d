import type { ExecutionView } from '../../../shared/dashboard/contract.ts';

export type StateProgress = 'current' | 'succeeded' | 'failed' | 'retried' | 'entered';

export interface StateVisit {
  readonly visits: number;
  readonly totalMs: number;
  readonly progress: StateProgress;
}

/** Per state name: how often it was entered, the time spent in it, and how its last visit went. */
export function visitsByState(execution: ExecutionView, now: number): Map<string, StateVisit> {
  const result = new Map<string, StateVisit>();
  const running = execution.status === 'RUNNING';
  execution.states.forEach((entry, index) => {
    const entered = Date.parse(entry.enteredAt);
    const exited = entry.exitedAt ? Date.parse(entry.exitedAt) : running ? now : Date.parse(execution.stopDate ?? '') || now;
    const previous = result.get(entry.name);
    const isLast = index === execution.states.length - 1;
    const progress: StateProgress =
      running && !entry.exitedAt && isLast ? 'current' : entry.outcome ?? (!running && isLast && execution.status !== 'SUCCEEDED' ? 'failed' : 'entered');
    result.set(entry.name, {
      visits: (previous?.visits ?? 0) + 1,
      totalMs: (previous?.totalMs ?? 0) + (Number.isNaN(entered) || Number.isNaN(exited) ? 0 : Math.max(0, exited - entered)),
      progress,
    });
  });
  return result;
}

/** The state the execution is in now (running), or ended in. */
export function currentState(execution: ExecutionView): string | null {
  return execution.states[execution.states.length - 1]?.name ?? null;
}
