import type { DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import { Status } from '../../components/Status.tsx';
import { APP_LABEL } from '../../lib/pipeline.ts';
import { GeneratorPanel } from './GeneratorPanel.tsx';
import { RoutingControls } from './RoutingControls.tsx';

/** Where each app runs, the routing controls that decide it, and the load generator. */
export function ControlsView({ snapshot }: { readonly snapshot: DashboardSnapshot }) {
  return (
    <>
      <section className="panel" aria-labelledby="active-heading">
        <h2 id="active-heading">Active regions</h2>
        <table className="grid">
          <thead><tr><th scope="col">app</th><th scope="col">active region (dns control On)</th></tr></thead>
          <tbody>
            {snapshot.apps.map((entry) => (
              <tr key={entry.app}>
                <th scope="row">{APP_LABEL[entry.app]}</th>
                <td>{entry.activeRegion ? <Status tone="ok">{entry.activeRegion}</Status> : <Status tone="bad">none</Status>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <RoutingControls snapshot={snapshot} />
      <GeneratorPanel generator={snapshot.generator} />
    </>
  );
}
