import type { DashboardSnapshot } from '../../../../local/dashboard/contract.ts';
import { Status, toneOf } from '../../components/Status.tsx';
import { formatMB, formatMs } from '../../lib/format.ts';

/** Region processes and the ARC cluster's endpoints. */
export function RegionsTable({ snapshot }: { readonly snapshot: DashboardSnapshot }) {
  return (
    <section className="panel" aria-labelledby="regions-heading">
      <h2 id="regions-heading">Regions</h2>
      <table className="grid">
        <thead>
          <tr><th scope="col">region</th><th scope="col">process</th><th scope="col">RSS</th><th scope="col">uptime</th><th scope="col">active for</th><th scope="col">mappings enabled</th></tr>
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
