import type { AppName, MetricTotals } from '../../../../shared/dashboard/contract.ts';
import { Status } from '../../components/Status.tsx';
import { formatCount } from '../../lib/format.ts';
import { appOutcomes } from '../../lib/outcomes.ts';

/** Trades or settlements by status, and for settlement the ledger check, as the matching stages count them. */
export function OutcomesPanel({ app, metrics }: { readonly app: AppName; readonly metrics: MetricTotals }) {
  const { statuses, ledger } = appOutcomes(app, metrics);
  const what = app === 'trade-matching' ? 'Trade legs' : 'Settlements';
  return (
    <div className="outcomes" aria-label={`${what} by status`}>
      <span className="muted">{what} by status:</span>{' '}
      {statuses === null ? (
        <span className="muted">none yet</span>
      ) : (
        Object.entries(statuses).map(([status, count]) => (
          <span key={status} className="outcome" data-status={status}>
            {status} <strong className="mono">{formatCount(count)}</strong>
          </span>
        ))
      )}
      {ledger && (
        <span className="outcome" data-ledger="check">
          Ledger: <strong className="mono">{formatCount(ledger.postingSets)}</strong> posting sets,{' '}
          {ledger.unbalancedSets === 0 ? <Status tone="ok">balanced</Status> : <Status tone="bad">{formatCount(ledger.unbalancedSets)} unbalanced</Status>}
        </span>
      )}
    </div>
  );
}
