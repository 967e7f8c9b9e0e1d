import type { ExecutionSummary, StateMachineView } from '../../../../shared/dashboard/contract.ts';
import { useToken } from '../../api/token-context.ts';
import { Status, toneOf } from '../../components/Status.tsx';
import { useExecution } from '../../hooks/useExecution.ts';
import { useNow } from '../../hooks/useNow.ts';
import { currentState, visitsByState } from '../../lib/execution.ts';
import { elapsedMs, formatDateTime, formatMs } from '../../lib/format.ts';
import { StateMachineGraph } from './StateMachineGraph.tsx';
import { StateTimings } from './StateTimings.tsx';

interface ExecutionPanelProps {
  readonly name: string;
  readonly summary: ExecutionSummary | undefined;
  readonly machines: readonly StateMachineView[];
  readonly onClose: () => void;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value, null, 2) ?? '';
  return text.length > 4000 ? `${text.slice(0, 4000)}\n…` : text;
}

/** One execution followed live: status, its graph with the current state, per-state timings, output or error. */
export function ExecutionPanel({ name, summary, machines, onClose }: ExecutionPanelProps) {
  const token = useToken();
  const now = useNow(1000);
  const { execution, problem } = useExecution(token, name, summary?.status);
  const machine = machines.find((candidate) => candidate.name === (execution?.stateMachine ?? summary?.stateMachine));
  return (
    <section className="panel" aria-labelledby="execution-heading" aria-live="polite">
      <h2 id="execution-heading">
        Execution <span className="mono">{name}</span>{' '}
        {execution && <Status tone={execution.status === 'RUNNING' ? 'info' : toneOf(execution.status)}>{execution.status}</Status>}{' '}
        <button type="button" className="link" onClick={onClose}>close</button>
      </h2>
      {problem && <p role="alert" className="notice notice-bad">Could not read the execution: {problem}</p>}
      {!execution && !problem && <p className="muted">Loading…</p>}
      {execution && (
        <>
          <dl className="facts">
            <dt>state machine</dt><dd className="mono">{execution.stateMachine}</dd>
            <dt>region</dt><dd>{execution.region}</dd>
            <dt>started</dt><dd>{formatDateTime(execution.startDate)}</dd>
            <dt>{execution.stopDate ? 'took' : 'running for'}</dt><dd>{formatMs(elapsedMs(execution.startDate, execution.stopDate, now))}</dd>
            <dt>{execution.status === 'RUNNING' ? 'now in' : 'ended in'}</dt><dd className="mono">{currentState(execution) ?? '—'}</dd>
          </dl>
          {execution.error && (
            <p className="notice notice-bad">
              <strong>{execution.error}</strong>{execution.cause ? `: ${execution.cause}` : ''}
            </p>
          )}
          <div className="execution-body">
            {machine ? (
              <StateMachineGraph definition={machine.definition} visits={visitsByState(execution, now)} current={currentState(execution)} />
            ) : (
              <p className="muted">No definition for {execution.stateMachine} to draw.</p>
            )}
            <StateTimings execution={execution} now={now} />
          </div>
          <details>
            <summary>Input{execution.output !== undefined ? ' and output' : ''}</summary>
            <pre>{preview(execution.input)}</pre>
            {execution.output !== undefined && <pre>{preview(execution.output)}</pre>}
          </details>
        </>
      )}
    </section>
  );
}
