import { useEffect, useState } from 'react';
import { onUnauthorized } from './api/client.ts';
import { forgetToken, takeTokenFromLocation } from './api/token.ts';
import { TokenContext } from './api/token-context.ts';
import { SummaryBar } from './components/SummaryBar.tsx';
import { Tabs, type TabSpec } from './components/Tabs.tsx';
import { useHistory } from './hooks/useHistory.ts';
import { useNow } from './hooks/useNow.ts';
import { useSnapshot } from './hooks/useSnapshot.ts';
import { ChaosView } from './views/chaos/ChaosView.tsx';
import { ControlsView } from './views/controls/ControlsView.tsx';
import { FlowView } from './views/flow/FlowView.tsx';
import { HealthView } from './views/health/HealthView.tsx';
import { lagValues } from './views/health/ReplicationPanel.tsx';
import { APPS, appBacklogValues } from './lib/pipeline.ts';
import type { DashboardSnapshot } from '../../shared/dashboard/contract.ts';
import { RunbooksView } from './views/runbooks/RunbooksView.tsx';

type ViewId = 'flow' | 'controls' | 'health' | 'runbooks' | 'chaos';
const TABS: readonly TabSpec<ViewId>[] = [
  { id: 'flow', label: 'Flow' },
  { id: 'controls', label: 'Regions & controls' },
  { id: 'health', label: 'Replication & health' },
  { id: 'runbooks', label: 'Runbooks' },
  { id: 'chaos', label: 'Chaos' },
];

/** The view named in the address (`#view=runbooks`, kept up to date so a reload stays put), else Flow. */
function initialView(): ViewId {
  const named = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('view');
  return TABS.find((tab) => tab.id === named)?.id ?? 'flow';
}
/** Points kept for the lag chart: ten minutes at one snapshot a second. */
const LAG_HISTORY_POINTS = 600;

/** Each app's stream backlog per region, for the Flow view's chart: `<app> <region>` → oldest waiting record, ms. */
const backlogValues = (snapshot: DashboardSnapshot) =>
  Object.fromEntries(APPS.flatMap((app) => Object.entries(appBacklogValues(app, snapshot.regions)).map(([region, age]) => [`${app} ${region}`, age])));

function TokenProblem({ refused }: { readonly refused: boolean }) {
  return (
    <main className="token-problem">
      <h1>Rotor operations</h1>
      <p role="alert" className="notice notice-bad">
        {refused ? 'The dashboard server refused this page’s token (401).' : 'This page has no access token.'}
      </p>
      <p>
        Open the dashboard with the URL <code>rotor up</code> prints: it ends in <code>#token=…</code>. The token is kept for this tab only
        {refused ? ', and a token from an earlier run of the twin no longer works' : ''}.
      </p>
    </main>
  );
}

function Dashboard({ token }: { readonly token: string }) {
  const state = useSnapshot(token);
  const now = useNow(1000);
  const lagHistory = useHistory(state.snapshot, lagValues, LAG_HISTORY_POINTS);
  const backlogHistory = useHistory(state.snapshot, backlogValues, LAG_HISTORY_POINTS);
  const [view, setView] = useState<ViewId>(initialView);
  useEffect(() => window.history.replaceState(window.history.state, '', `#view=${view}`), [view]);
  const { snapshot } = state;
  return (
    <TokenContext.Provider value={token}>
      <header className="top">
        <h1>Rotor operations</h1>
        <SummaryBar state={state} snapshot={snapshot} now={now} />
        <Tabs tabs={TABS} selected={view} onSelect={setView} />
      </header>
      <main className={state.stale ? 'is-stale' : undefined}>
        {!snapshot ? (
          <p className="muted">{state.problem ?? 'Connecting to the twin…'}</p>
        ) : (
          TABS.map((tab) => (
            // Every view stays mounted (hidden when not selected) so forms, followed executions and charts keep their state.
            <div key={tab.id} id={`tab-${tab.id}`} role="tabpanel" aria-labelledby={`tabbutton-${tab.id}`} hidden={tab.id !== view}>
              {tab.id === 'flow' && <FlowView snapshot={snapshot} backlogHistory={backlogHistory} />}
              {tab.id === 'controls' && <ControlsView snapshot={snapshot} />}
              {tab.id === 'health' && <HealthView snapshot={snapshot} lagHistory={lagHistory} />}
              {tab.id === 'runbooks' && <RunbooksView snapshot={snapshot} />}
              {tab.id === 'chaos' && <ChaosView />}
            </div>
          ))
        )}
      </main>
    </TokenContext.Provider>
  );
}

export function App() {
  const [token] = useState(takeTokenFromLocation);
  const [refused, setRefused] = useState(false);
  useEffect(
    () =>
      onUnauthorized(() => {
        forgetToken();
        setRefused(true);
      }),
    [],
  );
  useEffect(() => {
    // A new `#token=…` pasted into this tab changes only the fragment: start again with it.
    const onHashChange = () => {
      if (new URLSearchParams(window.location.hash.replace(/^#/, '')).has('token')) window.location.reload();
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);
  if (!token || refused) return <TokenProblem refused={refused} />;
  return <Dashboard token={token} />;
}
