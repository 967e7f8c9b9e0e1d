import type { ExecutionView } from '../../../../shared/dashboard/contract.ts';
import { Status, type Tone } from '../../components/Status.tsx';
import { elapsedMs, formatClock, formatMs } from '../../lib/format.ts';

const OUTCOME_TONE: Record<string, Tone> = { succeeded: 'ok', failed: 'bad', retried: 'warn' };

/** Every state the execution entered, in order, with when and for how long. */
export function StateTimings({ execution, now }: { readonly execution: ExecutionView; readonly now: number }) {
  const running = execution.status === 'RUNNING';
  return (
    <div className="timings">
      <table className="grid">
        <caption>States entered ({execution.states.length})</caption>
        <thead><tr><th scope="col">#</th><th scope="col">state</th><th scope="col">entered</th><th scope="col">took</th><th scope="col">outcome</th></tr></thead>
        <tbody>
          {execution.states.map((entry, index) => {
            const open = !entry.exitedAt;
            const isNow = running && open && index === execution.states.length - 1;
            return (
              <tr key={index} className={isNow ? 'row-now' : undefined}>
                <td className="num">{index + 1}</td>
                <td className="mono">{entry.name}</td>
                <td className="num">{formatClock(entry.enteredAt)}</td>
                <td className="num">{open && !isNow ? '—' : formatMs(elapsedMs(entry.enteredAt, entry.exitedAt, now))}</td>
                <td>
                  {isNow ? <Status tone="info">in progress</Status> : entry.outcome ? <Status tone={OUTCOME_TONE[entry.outcome] ?? 'idle'}>{entry.outcome}</Status> : <span className="muted">—</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
