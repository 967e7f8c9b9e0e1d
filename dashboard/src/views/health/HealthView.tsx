import type { DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import type { HistoryPoint } from '../../hooks/useHistory.ts';
import { RegionsTable } from './RegionsTable.tsx';
import { ReplicationPanel } from './ReplicationPanel.tsx';

export function HealthView({ snapshot, lagHistory }: { readonly snapshot: DashboardSnapshot; readonly lagHistory: readonly HistoryPoint[] }) {
  return (
    <>
      <RegionsTable snapshot={snapshot} />
      <ReplicationPanel snapshot={snapshot} history={lagHistory} />
    </>
  );
}
