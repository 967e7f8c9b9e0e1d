import type { DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import { LineChart } from '../../components/LineChart.tsx';
import { Status, toneOf } from '../../components/Status.tsx';
import type { HistoryPoint } from '../../hooks/useHistory.ts';
import { colorAt } from '../../lib/colors.ts';
import { formatCount, formatMs } from '../../lib/format.ts';

/** The values the lag chart follows, from one snapshot. */
export function lagValues(snapshot: DashboardSnapshot): Record<string, number | null> {
  return {
    'DynamoDB replication lag': snapshot.replication.lagMs,
    ...Object.fromEntries(snapshot.replication.directions.map((direction) => [`${direction.from} → ${direction.to} oldest pending`, direction.oldestPendingAgeMs])),
    ...Object.fromEntries(snapshot.replication.databases.map((database) => [`Aurora ${database.name} lag`, database.lagMs])),
  };
}

function LagChart({ history }: { readonly history: readonly HistoryPoint[] }) {
  const keys = [...new Set(history.flatMap((point) => Object.keys(point.values)))];
  const span = history.length > 1 ? formatMs(history[history.length - 1]!.at - history[0]!.at) : '0 s';
  return (
    <LineChart
      title="Replication lag since this page opened"
      series={keys.map((key, index) => ({ label: key, color: colorAt(index), values: history.map((point) => point.values[key] ?? null) }))}
      format={formatMs}
      span={`last ${span}`}
    />
  );
}

/** DynamoDB global-table links in each direction and the Aurora global databases. */
export function ReplicationPanel({ snapshot, history }: { readonly snapshot: DashboardSnapshot; readonly history: readonly HistoryPoint[] }) {
  const { replication } = snapshot;
  return (
    <section className="panel" aria-labelledby="replication-heading">
      <h2 id="replication-heading">Replication</h2>
      <p>DynamoDB replication lag now: <strong>{formatMs(replication.lagMs)}</strong></p>
      <LagChart history={history} />
      <h3>DynamoDB global tables</h3>
      <table className="grid">
        <thead><tr><th scope="col">direction</th><th scope="col">state</th><th scope="col">backlog</th><th scope="col">oldest pending</th></tr></thead>
        <tbody>
          {replication.directions.map((direction) => (
            <tr key={`${direction.from}→${direction.to}`}>
              <th scope="row">{direction.from} → {direction.to}</th>
              <td><Status tone={toneOf(direction.state)}>{direction.state}</Status></td>
              <td className="num">{formatCount(direction.backlog)} changes</td>
              <td className="num">{direction.backlog > 0 ? formatMs(direction.oldestPendingAgeMs) : '—'}</td>
            </tr>
          ))}
          {replication.directions.length === 0 && <tr><td colSpan={4} className="muted">no replication links reported</td></tr>}
        </tbody>
      </table>
      <h3>Aurora global databases</h3>
      <table className="grid">
        <thead><tr><th scope="col">database</th><th scope="col">writer region</th><th scope="col">replication lag</th></tr></thead>
        <tbody>
          {replication.databases.map((database) => (
            <tr key={database.name}>
              <th scope="row" className="mono">{database.name}</th>
              <td>{database.writerRegion ?? <Status tone="warn">unknown</Status>}</td>
              <td className="num">{formatMs(database.lagMs)}</td>
            </tr>
          ))}
          {replication.databases.length === 0 && <tr><td colSpan={3} className="muted">no global databases reported</td></tr>}
        </tbody>
      </table>
    </section>
  );
}
