import type { AppName, DashboardSnapshot } from '../../../../shared/dashboard/contract.ts';
import type { HistoryPoint } from '../../hooks/useHistory.ts';
import { LineChart } from '../../components/LineChart.tsx';
import { Status } from '../../components/Status.tsx';
import { APPS, APP_LABEL, appThroughput, otherMappings, stageViews } from '../../lib/pipeline.ts';
import { formatCount, formatMs } from '../../lib/format.ts';
import { regionColor } from '../../lib/colors.ts';
import { OutcomesPanel } from './OutcomesPanel.tsx';
import { StageCard } from './StageCard.tsx';

function AppFlow({ app, snapshot, backlogHistory }: { readonly app: AppName; readonly snapshot: DashboardSnapshot; readonly backlogHistory: readonly HistoryPoint[] }) {
  const active = snapshot.apps.find((entry) => entry.app === app)?.activeRegion ?? null;
  const throughput = snapshot.regions.map((region) => ({ label: region.region, values: appThroughput(app, region.region, snapshot.series) ?? [], color: regionColor(region.region, snapshot) }));
  return (
    <section className="panel" aria-labelledby={`flow-${app}`}>
      <h2 id={`flow-${app}`}>
        {APP_LABEL[app]} <span className="muted">active region:</span>{' '}
        {active ? <Status tone="ok">{active}</Status> : <Status tone="bad">none</Status>}
      </h2>
      <OutcomesPanel app={app} metrics={snapshot.metrics} />
      <LineChart
        title={`${APP_LABEL[app]} throughput: RecordsProcessed per second, summed over the stages`}
        series={throughput}
        format={(value) => `${formatCount(Math.round(value))}/s`}
        span={`last ${snapshot.seriesSeconds} s`}
      />
      <LineChart
        title={`${APP_LABEL[app]} stream backlog: the oldest record waiting in any stage (iterator age), since this page opened`}
        series={snapshot.regions.map((region) => ({ label: region.region, color: regionColor(region.region, snapshot), values: backlogHistory.map((point) => point.values[`${app} ${region.region}`] ?? null) }))}
        format={formatMs}
        span={backlogHistory.length > 1 ? `last ${formatMs(backlogHistory[backlogHistory.length - 1]!.at - backlogHistory[0]!.at)}` : 'just opened'}
      />
      {snapshot.regions.map((region) => (
        <div key={region.region} className="flow-region">
          <h3>
            {region.region} {region.region === active ? <Status tone="ok">active</Status> : <Status tone="idle">standby</Status>}{' '}
            {region.state !== 'up' && <Status tone={region.state === 'down' ? 'bad' : 'warn'}>region {region.state}</Status>}
          </h3>
          <div className="pipeline">
            {stageViews(app, region, region.region, snapshot.metrics, snapshot.series).map((view, index) => (
              <div key={view.stage} className="pipeline-step">
                {index > 0 && <span className="arrow" aria-hidden="true">→</span>}
                <StageCard view={view} region={region.region} />
              </div>
            ))}
          </div>
        </div>
      ))}
    </section>
  );
}

/** The pipelines, stage by stage, per app and region: counts, backlog and throughput. */
export function FlowView({ snapshot, backlogHistory }: { readonly snapshot: DashboardSnapshot; readonly backlogHistory: readonly HistoryPoint[] }) {
  const unmatched = snapshot.regions.flatMap((region) => otherMappings(region).map((mapping) => ({ region: region.region, ...mapping })));
  return (
    <>
      {APPS.map((app) => (
        <AppFlow key={app} app={app} snapshot={snapshot} backlogHistory={backlogHistory} />
      ))}
      {unmatched.length > 0 && (
        <section className="panel">
          <h2>Other event-source mappings</h2>
          <ul className="plain">
            {unmatched.map((mapping) => (
              <li key={`${mapping.region}/${mapping.mappingId}`} className="mono">
                {mapping.region} {mapping.mappingId}: {mapping.state}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
