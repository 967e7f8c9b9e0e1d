import { useState } from 'react';
import type { DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import { Status, toneOf } from '../../components/Status.tsx';
import { formatMB, formatMs } from '../../lib/format.ts';
import { RegionActions } from './RegionActions.tsx';

/** Region processes (each can be stopped, killed or started) and the ARC cluster's endpoints. */
export function RegionsTable({ snapshot }: { readonly snapshot: DashboardSnapshot }) {
  const [outcome, setOutcome] = useState<{ tone: 'ok' | 'bad'; text: string } | null>(null);
  return (
    <section className="panel" aria-labelledby="regions-heading">
      <h2 id="regions-heading">Regions</h2>
      {outcome && (
        <p role={outcome.tone === 'bad' ? 'alert' : 'status'} className={`notice notice-${outcome.tone}`}>
          {outcome.text} <button type="button" className="link" onClick={() => setOutcome(null)}>dismiss</button>
        </p>
      )}
      <table className="grid">
        <thead>
          <tr><th scope="col">region</th><th scope="col">process</th><th scope="col">RSS</th><th scope="col">uptime</th><th scope="col">active for</th><th scope="col">mappings enabled</th><th scope="col">outage</th></tr>
        </thead>
        <tbody>
          {snapshot.regions.map((region) => (
            <tr key={region.region}>
              <th scope="row">{region.region}</th>
              <td><Status tone={toneOf(region.state)}>{region.state}</Status></td>
              <td className="num">{formatMB(region.rssMB)}</td>
              <td className="num">{formatMs(region.uptimeMs)}</td>
              <td>{region.activeFor.length ? region.activeFor.join(', ') : <span className="muted">standby</span>}</td>
              <td className="num">{region.mappings.filter((mapping) => mapping.state === 'Enabled').length} / {region.mappings.length}</td>
              <td><RegionActions region={region} onOutcome={(tone, text) => setOutcome({ tone, text })} /></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>ARC cluster endpoints</h3>
      <table className="grid">
        <thead><tr><th scope="col">endpoint</th><th scope="col">region</th><th scope="col">state</th></tr></thead>
        <tbody>
          {snapshot.arcEndpoints.map((endpoint) => (
            <tr key={endpoint.url}>
              <td className="mono">{endpoint.url}</td>
              <td>{endpoint.region}</td>
              <td>{endpoint.running ? <Status tone="ok">up</Status> : <Status tone="bad">down</Status>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {snapshot.arcEndpoints.length > 0 && (
        <p className="muted">
          {snapshot.arcEndpoints.filter((endpoint) => endpoint.running).length} of {snapshot.arcEndpoints.length} endpoints up; routing controls can be read and changed while at least one answers.
        </p>
      )}
    </section>
  );
}
