import { useState } from 'react';
import type { ChaosExperimentView, ChaosRunView } from '../../../../shared/dashboard/contract.ts';
import { errorMessage } from '../../api/client.ts';
import { sendChaos } from '../../api/endpoints.ts';
import { useToken } from '../../api/token-context.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { Status, toneOf } from '../../components/Status.tsx';
import { formatDateTime, formatMs } from '../../lib/format.ts';
import { useChaos } from '../../hooks/useChaos.ts';

interface Asking {
  readonly experiment: ChaosExperimentView;
  readonly targets: string[];
  readonly durationSeconds: number;
}

function RunsTable({ caption, runs, onStop }: { readonly caption: string; readonly runs: readonly ChaosRunView[]; readonly onStop?: (run: ChaosRunView) => void }) {
  if (runs.length === 0) return null;
  return (
    <table className="grid">
      <caption>{caption}</caption>
      <thead><tr><th scope="col">experiment</th><th scope="col">targets</th><th scope="col">state</th><th scope="col">started</th><th scope="col">lasts</th><th scope="col">notes</th>{onStop && <th scope="col" />}</tr></thead>
      <tbody>
        {runs.map((run) => (
          <tr key={run.id}>
            <th scope="row" className="mono">{run.experiment}</th>
            <td className="mono">{run.targets.join(', ')}</td>
            <td><Status tone={run.state === 'running' ? 'warn' : toneOf(run.state === 'stopped' ? 'succeeded' : run.state)}>{run.state}</Status></td>
            <td>{formatDateTime(run.startedAt)}</td>
            <td className="num">{formatMs(run.durationMs)}</td>
            <td>{[...run.notes, ...(run.error ? [run.error] : [])].join('; ') || <span className="muted">—</span>}</td>
            {onStop && <td><button type="button" onClick={() => onStop(run)}>Stop</button></td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The twin's chaos experiments: start one against chosen targets for a while, watch it, stop it; the recent runs. */
export function ChaosView() {
  const token = useToken();
  const { chaos, problem, refresh } = useChaos(token);
  const [targets, setTargets] = useState<Record<string, string>>({});
  const [durations, setDurations] = useState<Record<string, string>>({});
  const [asking, setAsking] = useState<Asking | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);

  const act = async (experiment: string, request: Parameters<typeof sendChaos>[2]) => {
    setBusy(true);
    try {
      const runs = await sendChaos(token, experiment, request);
      setOutcome({ tone: 'ok', text: request.action === 'start' ? `${experiment} started: ${runs[0]?.notes.join('; ') || 'fault in place'}` : `${experiment} stopped.` });
    } catch (error) {
      setOutcome({ tone: 'bad', text: `Could not ${request.action} ${experiment}: ${errorMessage(error)}` });
    } finally {
      setBusy(false);
      setAsking(null);
      refresh();
    }
  };
  const ask = (experiment: ChaosExperimentView) => {
    const chosen = (targets[experiment.name] ?? experiment.defaultTargets.join(', ')).split(',').map((target) => target.trim()).filter(Boolean);
    const seconds = Number(durations[experiment.name] ?? experiment.defaultDurationMs / 1000);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      setOutcome({ tone: 'bad', text: `${experiment.name}: the duration must be a number of seconds above 0.` });
      return;
    }
    setAsking({ experiment, targets: chosen, durationSeconds: seconds });
  };

  return (
    <section className="panel" aria-labelledby="chaos-heading">
      <h2 id="chaos-heading">Chaos experiments</h2>
      <p className="muted">
        Faults injected inside the twin where the data flows (docs/chaos.md). Each ends by itself after its duration. To judge
        them by invariants, run <code>rotor drill chaos-matrix</code>, which runs every experiment on a twin of its own
        under load and prints one row per experiment.
      </p>
      {problem && <p role="alert" className="notice notice-bad">Could not read the experiments: {problem}</p>}
      {outcome && (
        <p role={outcome.tone === 'bad' ? 'alert' : 'status'} className={`notice notice-${outcome.tone}`}>
          {outcome.text} <button type="button" className="link" onClick={() => setOutcome(null)}>dismiss</button>
        </p>
      )}
      {chaos && chaos.experiments.length === 0 && <p>This deployment has no chaos controller. On AWS, use AWS FIS experiment templates.</p>}
      <RunsTable caption="Running" runs={chaos?.running ?? []} onStop={(run) => void act(run.experiment, { action: 'stop' })} />
      {chaos && chaos.experiments.length > 0 && (
        <table className="grid">
          <caption>Experiments</caption>
          <thead><tr><th scope="col">experiment</th><th scope="col">what it does</th><th scope="col">targets (comma-separated)</th><th scope="col">seconds</th><th scope="col" /></tr></thead>
          <tbody>
            {chaos.experiments.map((experiment) => {
              const running = chaos.running.some((run) => run.experiment === experiment.name);
              return (
                <tr key={experiment.name}>
                  <th scope="row" className="mono">
                    {experiment.name} {experiment.brokenBuild && <Status tone="bad" title="a deliberately broken build: the matrix must report it not ok">broken build</Status>}
                  </th>
                  <td>{experiment.summary}</td>
                  <td>
                    <input aria-label={`${experiment.name} targets (${experiment.targetKind})`} value={targets[experiment.name] ?? experiment.defaultTargets.join(', ')} onChange={(event) => setTargets((old) => ({ ...old, [experiment.name]: event.target.value }))} />
                  </td>
                  <td>
                    <input aria-label={`${experiment.name} seconds`} type="number" min="1" step="1" className="short" value={durations[experiment.name] ?? String(experiment.defaultDurationMs / 1000)} onChange={(event) => setDurations((old) => ({ ...old, [experiment.name]: event.target.value }))} />
                  </td>
                  <td>
                    {running ? (
                      <button type="button" onClick={() => void act(experiment.name, { action: 'stop' })} disabled={busy}>Stop</button>
                    ) : (
                      <button type="button" className="danger" onClick={() => ask(experiment)} disabled={busy}>Start</button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <RunsTable caption="Recent runs" runs={chaos?.recent ?? []} />
      {asking && (
        <ConfirmDialog
          title={`Start ${asking.experiment.name}?`}
          confirmLabel={`start ${asking.experiment.name}`}
          busy={busy}
          onConfirm={() => void act(asking.experiment.name, { action: 'start', targets: asking.targets, durationSeconds: asking.durationSeconds })}
          onCancel={() => setAsking(null)}
        >
          <p>{asking.experiment.summary}</p>
          <p>
            Targets: <span className="mono">{asking.targets.join(', ') || 'the defaults'}</span>, for {asking.durationSeconds} s.
          </p>
        </ConfirmDialog>
      )}
    </section>
  );
}
