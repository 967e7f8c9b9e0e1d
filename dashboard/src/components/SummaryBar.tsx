import type { DashboardSnapshot } from '../../../shared/dashboard/contract.ts';
import type { SnapshotState } from '../hooks/useSnapshot.ts';
import { formatClock, formatMs } from '../lib/format.ts';
import { APP_LABEL } from '../lib/pipeline.ts';
import { Status, toneOf } from './Status.tsx';

function Freshness({ state, now }: { readonly state: SnapshotState; readonly now: number }) {
  const age = state.receivedAt === null ? null : now - state.receivedAt;
  if (state.receivedAt === null) return <Status tone="warn">waiting for the first snapshot</Status>;
  const when = `snapshot ${formatClock(state.snapshot?.at)}`;
  if (state.stale) {
    return (
      <Status tone="bad" title={state.problem ?? undefined}>
        STALE: nothing new for {formatMs(age)} ({when}){state.connection === 'reconnecting' ? ', reconnecting' : ''}
      </Status>
    );
  }
  return <Status tone={state.connection === 'open' ? 'ok' : 'warn'} title={state.problem ?? undefined}>{state.connection === 'open' ? 'live' : 'polling'}, {when}</Status>;
}

/** What an SRE wants at a glance, on every view: freshness, where each app runs, regions, load. */
export function SummaryBar({ state, snapshot, now }: { readonly state: SnapshotState; readonly snapshot: DashboardSnapshot | null; readonly now: number }) {
  return (
    <div className="summary" role="region" aria-label="Summary">
      <span aria-live="polite"><Freshness state={state} now={now} /></span>
      {snapshot && (
        <>
          {snapshot.apps.map((entry) => (
            <span key={entry.app}>
              {APP_LABEL[entry.app]}: {entry.activeRegion ? <Status tone="ok">{entry.activeRegion}</Status> : <Status tone="bad">no active region</Status>}
            </span>
          ))}
          {snapshot.regions.map((region) => (
            <span key={region.region}>
              {region.region}: <Status tone={toneOf(region.state)}>{region.state}</Status>
            </span>
          ))}
          <span>
            generator:{' '}
            {snapshot.generator ? <Status tone={toneOf(snapshot.generator.state)}>{snapshot.generator.state}{snapshot.generator.state === 'running' ? ` at ${snapshot.generator.rate}/s` : ''}</Status> : <Status tone="idle">none</Status>}
          </span>
        </>
      )}
    </div>
  );
}
