import { useState } from 'react';
import type { AppName, DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import { useToken } from '../../api/token-context.ts';
import { useNow } from '../../hooks/useNow.ts';
import { useStateMachines } from '../../hooks/useStateMachines.ts';
import { APPS, APP_LABEL } from '../../lib/pipeline.ts';
import { RUNBOOKS, findStateMachine, type RunbookId } from '../../lib/runbooks.ts';
import { ExecutionHistory } from './ExecutionHistory.tsx';
import { ExecutionPanel } from './ExecutionPanel.tsx';
import { ReportDownload } from './ReportDownload.tsx';
import { RunbookForm } from './RunbookForm.tsx';

/** Start a runbook, follow its execution on the state machine's graph, and look back at earlier ones. */
export function RunbooksView({ snapshot }: { readonly snapshot: DashboardSnapshot }) {
  const token = useToken();
  const now = useNow(1000);
  const { machines, problem, retry } = useStateMachines(token);
  const [chosen, setChosen] = useState<{ app: AppName; runbook: RunbookId } | null>(null);
  const [followed, setFollowed] = useState<string | null>(null);
  const regions = snapshot.regions.map((region) => region.region);
  const chosenMachine = chosen && machines ? findStateMachine(machines, chosen.app, chosen.runbook) : undefined;
  const chosenRunbook = RUNBOOKS.find((runbook) => runbook.id === chosen?.runbook);

  return (
    <>
      <section className="panel" aria-labelledby="runbooks-heading">
        <h2 id="runbooks-heading">Runbooks</h2>
        {problem && (
          <p role="alert" className="notice notice-bad">
            Could not load the state machines: {problem} <button type="button" onClick={retry}>retry</button>
          </p>
        )}
        {!machines && !problem && <p className="muted">Loading state machines…</p>}
        {machines && (
          <table className="grid">
            <tbody>
              {APPS.map((app) => {
                const active = snapshot.apps.find((entry) => entry.app === app)?.activeRegion ?? null;
                return (
                  <tr key={app}>
                    <th scope="row">{APP_LABEL[app]} <span className="muted">(active: {active ?? 'none'})</span></th>
                    {RUNBOOKS.map((runbook) => {
                      const machine = findStateMachine(machines, app, runbook.id);
                      const unavailable = !machine || !machine.available;
                      return (
                        <td key={runbook.id}>
                          <button
                            type="button"
                            disabled={unavailable}
                            aria-pressed={chosen?.app === app && chosen.runbook === runbook.id}
                            title={unavailable ? `${machine?.name ?? runbook.id} is not available in this twin` : runbook.purpose}
                            onClick={() => setChosen({ app, runbook: runbook.id })}
                          >
                            {runbook.label}
                          </button>
                        </td>
                      );
                    })}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {chosen && chosenMachine && chosenRunbook && (
          <RunbookForm
            key={`${chosen.app}/${chosen.runbook}`}
            app={chosen.app}
            label={chosenRunbook.label}
            machine={chosenMachine}
            activeRegion={snapshot.apps.find((entry) => entry.app === chosen.app)?.activeRegion ?? null}
            regions={regions}
            onStarted={(name) => {
              setChosen(null);
              setFollowed(name);
            }}
            onCancel={() => setChosen(null)}
          />
        )}
      </section>
      {followed && (
        <ExecutionPanel
          name={followed}
          summary={snapshot.executions.find((execution) => execution.name === followed)}
          machines={machines ?? []}
          onClose={() => setFollowed(null)}
        />
      )}
      <ExecutionHistory executions={snapshot.executions} followed={followed} now={now} onFollow={setFollowed} />
      <ReportDownload />
    </>
  );
}
