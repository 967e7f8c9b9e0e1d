import { useState, type FormEvent } from 'react';
import type { GeneratorRequest, GeneratorView } from '../../../../shared/dashboard/contract.ts';
import { errorMessage } from '../../api/client.ts';
import { sendGenerator } from '../../api/endpoints.ts';
import { useToken } from '../../api/token-context.ts';
import { Status, toneOf } from '../../components/Status.tsx';
import { formatCount } from '../../lib/format.ts';

/** The twin's load loop (`rotor up --rate R`): its state, and start at a rate or stop. */
export function GeneratorPanel({ generator }: { readonly generator: GeneratorView | null }) {
  const token = useToken();
  const [rate, setRate] = useState(() => String(generator?.rate || 1));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const send = async (request: GeneratorRequest) => {
    setBusy(true);
    setProblem(null);
    try {
      await sendGenerator(token, request);
    } catch (error) {
      setProblem(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };
  const start = (event: FormEvent) => {
    event.preventDefault();
    const value = Number(rate);
    if (!Number.isFinite(value) || value <= 0) {
      setProblem('The rate must be a number of legs per second above 0.');
      return;
    }
    void send({ action: 'start', rate: value });
  };
  const running = generator?.state === 'running' || generator?.state === 'waiting';

  return (
    <section className="panel" aria-labelledby="generator-heading">
      <h2 id="generator-heading">Load generator</h2>
      {generator ? (
        <dl className="facts">
          <dt>state</dt><dd><Status tone={toneOf(generator.state)}>{generator.state}</Status>{generator.reason && <span className="muted"> {generator.reason}</span>}</dd>
          <dt>rate</dt><dd>{formatCount(generator.rate)} legs/s</dd>
          <dt>legs sent</dt><dd>{formatCount(generator.legsSent)}</dd>
          <dt>region</dt><dd>{generator.region ?? '—'}</dd>
        </dl>
      ) : (
        <p className="muted">The twin reports no generator loop.</p>
      )}
      <form className="inline-form" onSubmit={start}>
        <label>
          rate (legs/s){' '}
          <input type="number" min="0.1" step="any" value={rate} onChange={(event) => setRate(event.target.value)} required />
        </label>
        <button type="submit" disabled={busy}>{running ? 'Set rate' : 'Start'}</button>
        <button type="button" disabled={busy || !running} onClick={() => void send({ action: 'stop' })}>Stop</button>
      </form>
      {problem && <p role="alert" className="notice notice-bad">{problem}</p>}
    </section>
  );
}
