import { useState } from 'react';
import type { DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import { ApiError, errorMessage } from '../../api/client.ts';
import { setRoutingControl } from '../../api/endpoints.ts';
import { useToken } from '../../api/token-context.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { CONTROL_KINDS, KIND_LABEL, describeChange, parseControl, safetyNote, type ParsedControl } from '../../lib/controls.ts';
import { APPS, APP_LABEL } from '../../lib/pipeline.ts';

type Outcome = { readonly tone: 'ok' | 'bad'; readonly text: string };

function Toggle({ control, onAsk }: { readonly control: ParsedControl; readonly onAsk: (control: ParsedControl) => void }) {
  const on = control.state === 'On';
  return (
    <button
      type="button"
      role="switch"
      aria-checked={on}
      aria-label={`${control.name} is ${control.state}; turn ${on ? 'Off' : 'On'}`}
      className={`switch ${on ? 'switch-on' : 'switch-off'}`}
      onClick={() => onAsk(control)}
    >
      <span className="switch-knob" aria-hidden="true" />
      {control.state}
    </button>
  );
}

/** Every routing control, by app, kind and region, each switchable after a confirmation that says what it does. */
export function RoutingControls({ snapshot }: { readonly snapshot: DashboardSnapshot }) {
  const token = useToken();
  const [asking, setAsking] = useState<ParsedControl | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const controls = snapshot.routingControls.map(parseControl);
  const regions = [...new Set([...snapshot.regions.map((region) => region.region), ...controls.flatMap((control) => (control.region ? [control.region] : []))])];
  const unplaced = controls.filter((control) => !control.app || !control.kind);

  const confirm = async () => {
    if (!asking) return;
    const target = asking.state === 'On' ? 'Off' : 'On';
    setBusy(true);
    try {
      const result = await setRoutingControl(token, asking.name, target);
      setOutcome({ tone: 'ok', text: `${result.name} is now ${result.state}.` });
    } catch (error) {
      const refused = error instanceof ApiError && error.status === 409;
      setOutcome({ tone: 'bad', text: refused ? `Refused by a safety rule: ${error.message}` : `Could not set ${asking.name} ${target}: ${errorMessage(error)}` });
    } finally {
      setBusy(false);
      setAsking(null);
    }
  };

  return (
    <section className="panel" aria-labelledby="controls-heading">
      <h2 id="controls-heading">Routing controls</h2>
      {outcome && (
        <p role={outcome.tone === 'bad' ? 'alert' : 'status'} className={`notice notice-${outcome.tone}`}>
          {outcome.text} <button type="button" className="link" onClick={() => setOutcome(null)}>dismiss</button>
        </p>
      )}
      {APPS.map((app) => (
        <table key={app} className="grid">
          <caption>{APP_LABEL[app]}</caption>
          <thead>
            <tr><th scope="col">control</th>{regions.map((region) => <th scope="col" key={region}>{region}</th>)}</tr>
          </thead>
          <tbody>
            {CONTROL_KINDS.map((kind) => {
              const ofKind = controls.filter((control) => control.app === app && control.kind === kind);
              if (ofKind.length === 0) return null;
              const global = ofKind.filter((control) => !control.region);
              return (
                <tr key={kind}>
                  <th scope="row">{KIND_LABEL[kind]}</th>
                  {global.length > 0 ? (
                    <td colSpan={regions.length}>{global.map((control) => <Toggle key={control.name} control={control} onAsk={setAsking} />)} <span className="muted">(all regions)</span></td>
                  ) : (
                    regions.map((region) => {
                      const control = ofKind.find((candidate) => candidate.region === region);
                      return <td key={region}>{control ? <Toggle control={control} onAsk={setAsking} /> : <span className="muted">—</span>}</td>;
                    })
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      ))}
      {unplaced.length > 0 && (
        <ul className="plain">
          {unplaced.map((control) => <li key={control.name}><span className="mono">{control.name}</span> <Toggle control={control} onAsk={setAsking} /></li>)}
        </ul>
      )}
      {asking && (
        <ConfirmDialog
          title={`Turn ${asking.name} ${asking.state === 'On' ? 'Off' : 'On'}?`}
          confirmLabel={`Turn ${asking.state === 'On' ? 'Off' : 'On'}`}
          busy={busy}
          onConfirm={() => void confirm()}
          onCancel={() => setAsking(null)}
        >
          <p>
            Turn <strong className="mono">{asking.name}</strong> {asking.state === 'On' ? 'Off' : 'On'}: {describeChange(asking, asking.state === 'On' ? 'Off' : 'On')}.
          </p>
          {safetyNote(asking) && <p className="muted">{safetyNote(asking)}</p>}
        </ConfirmDialog>
      )}
    </section>
  );
}
