import { useId, useMemo, useState, type FormEvent } from 'react';
import type { AppName, StateMachineView } from '../../../../shared/dashboard/contract.ts';
import { errorMessage } from '../../api/client.ts';
import { startExecution } from '../../api/endpoints.ts';
import { useToken } from '../../api/token-context.ts';
import { parseAsl } from '../../lib/asl.ts';
import { APP_LABEL } from '../../lib/pipeline.ts';
import { buildInput, defaultValue, inputFields, type InputField } from '../../lib/runbooks.ts';

interface RunbookFormProps {
  readonly app: AppName;
  readonly label: string;
  readonly machine: StateMachineView;
  readonly activeRegion: string | null;
  readonly regions: readonly string[];
  readonly onStarted: (executionName: string) => void;
  readonly onCancel: () => void;
}

function FieldInput({ id, field, value, regions, onChange }: { readonly id: string; readonly field: InputField; readonly value: string; readonly regions: readonly string[]; readonly onChange: (value: string) => void }) {
  if (field.kind === 'app') return <input id={id} value={value} readOnly aria-readonly="true" />;
  if (field.kind === 'region') {
    return (
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        {regions.map((region) => <option key={region} value={region}>{region}</option>)}
      </select>
    );
  }
  if (field.kind === 'number') return <input id={id} type="number" min="0" step="1" value={value} onChange={(event) => onChange(event.target.value)} required />;
  return <input id={id} value={value} onChange={(event) => onChange(event.target.value)} required />;
}

/** The state machine's input as a form (fields from its ASL comment), then POST /api/executions. */
export function RunbookForm({ app, label, machine, activeRegion, regions, onStarted, onCancel }: RunbookFormProps) {
  const token = useToken();
  // Each field's label names it alone (a label wrapped around a <select> would read out every option too).
  const formId = useId();
  const fields = useMemo(() => inputFields(machine), [machine]);
  const comment = useMemo(() => parseAsl(machine.definition)?.comment, [machine]);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries((fields ?? []).map((field) => [field.name, defaultValue(field, { app, activeRegion, regions, now: new Date() })])),
  );
  const [raw, setRaw] = useState('{}');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    let input: Record<string, unknown>;
    if (fields) {
      const built = buildInput(fields, values);
      if ('error' in built) return setProblem(built.error);
      input = built.input;
    } else {
      try {
        input = JSON.parse(raw) as Record<string, unknown>;
      } catch (error) {
        return setProblem(`The input is not JSON: ${errorMessage(error)}`);
      }
    }
    setBusy(true);
    setProblem(null);
    try {
      const { executionName } = await startExecution(token, { stateMachine: machine.name, input });
      onStarted(executionName);
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="panel runbook-form" onSubmit={(event) => void submit(event)} aria-labelledby="runbook-form-heading">
      <h3 id="runbook-form-heading">
        {label}: {APP_LABEL[app]} <span className="muted mono">({machine.name})</span>
      </h3>
      {comment && <p className="muted">{comment}</p>}
      {fields ? (
        <div className="fields">
          {fields.map((field) => (
            <div key={field.name} className="field">
              <label htmlFor={`${formId}-${field.name}`}>{field.name}{field.hint ? ` (${field.hint})` : ''}</label>
              <FieldInput id={`${formId}-${field.name}`} field={field} value={values[field.name] ?? ''} regions={regions} onChange={(value) => setValues((old) => ({ ...old, [field.name]: value }))} />
            </div>
          ))}
        </div>
      ) : (
        <label className="fields">
          <span>input (JSON; the definition does not say what it takes)</span>
          <textarea rows={5} value={raw} onChange={(event) => setRaw(event.target.value)} />
        </label>
      )}
      {problem && <p role="alert" className="notice notice-bad">{problem}</p>}
      <div className="dialog-actions">
        <button type="button" onClick={onCancel} disabled={busy}>Cancel</button>
        <button type="submit" className="primary" disabled={busy}>{busy ? 'Starting…' : `Start ${label.toLowerCase()}`}</button>
      </div>
    </form>
  );
}
