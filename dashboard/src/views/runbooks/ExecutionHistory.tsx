import type { ExecutionSummary } from '../../../../shared/dashboard/contract.ts';
import { Status, toneOf } from '../../components/Status.tsx';
import { elapsedMs, formatDateTime, formatMs } from '../../lib/format.ts';

interface HistoryProps {
  readonly executions: readonly ExecutionSummary[];
  readonly followed: string | null;
  readonly now: number;
  readonly onFollow: (name: string) => void;
}

/** The snapshot's executions, newest first, each one a click away from its graph. */
export function ExecutionHistory({ executions, followed, now, onFollow }: HistoryProps) {
  const sorted = [...executions].sort((a, b) => b.startDate.localeCompare(a.startDate));
  return (
    <section className="panel" aria-labelledby="history-heading">
      <h2 id="history-heading">Executions</h2>
      {sorted.length === 0 ? (
        <p className="muted">No executions yet.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr><th scope="col">started</th><th scope="col">state machine</th><th scope="col">region</th><th scope="col">status</th><th scope="col">took</th><th scope="col">name</th><th scope="col"><span className="visually-hidden">follow</span></th></tr>
          </thead>
          <tbody>
            {sorted.map((execution) => (
              <tr key={execution.name} className={execution.name === followed ? 'row-now' : undefined}>
                <td className="num">{formatDateTime(execution.startDate)}</td>
                <td className="mono">{execution.stateMachine}</td>
                <td>{execution.region}</td>
                <td><Status tone={execution.status === 'RUNNING' ? 'info' : toneOf(execution.status)}>{execution.status}</Status></td>
                <td className="num">{formatMs(elapsedMs(execution.startDate, execution.stopDate, now))}</td>
                <td className="mono small">{execution.name}</td>
                <td>
                  <button type="button" onClick={() => onFollow(execution.name)} disabled={execution.name === followed} aria-label={`Show execution ${execution.name}`}>
                    {execution.name === followed ? 'shown' : 'show'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
