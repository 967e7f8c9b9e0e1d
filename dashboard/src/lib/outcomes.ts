import type { AppName, MetricTotals } from '../../../shared/dashboard/contract.ts';
import { APP_PREFIX } from './pipeline.ts';

/**
 * Trades (or settlements) by status, from the outcome counts each app's matching stage publishes as it commits
 * (`Events.<record>.<status>`, shared/pipeline/outcome-counts.ts), summed over regions: the matching database
 * moves between regions with the app, and so do its counts.
 *
 * A record is stored UNMATCHED when it waits, and a pair that matches (or mismatches, or settles as a pair) moves
 * the waiting one out: each MATCHED/MISMATCHED pair counts two events, one of which left UNMATCHED. A MATCHED leg
 * that settles moves on to SETTLED.
 */

export interface StatusCounts {
  readonly UNMATCHED: number;
  readonly MATCHED?: number;
  readonly MISMATCHED: number;
  readonly SETTLED: number;
}

export interface LedgerCheck {
  readonly postingSets: number;
  readonly unbalancedSets: number;
}

export interface AppOutcomes {
  /** Trade legs (trade matching) or settlements (settlement) by status; null before the first outcome. */
  readonly statuses: StatusCounts | null;
  /** Settlement only. */
  readonly ledger: LedgerCheck | null;
}

function summed(metrics: MetricTotals, service: string, metric: string): number {
  return Object.values(metrics).reduce((sum, services) => sum + (services[service]?.[metric] ?? 0), 0);
}

export function appOutcomes(app: AppName, metrics: MetricTotals): AppOutcomes {
  const service = `${APP_PREFIX[app]}-matching`;
  const count = (metric: string) => summed(metrics, service, metric);
  const record = app === 'trade-matching' ? 'trade' : 'settlement';
  const stored = { unmatched: count(`Events.${record}.unmatched`), matched: count(`Events.${record}.matched`), mismatched: count(`Events.${record}.mismatched`), settled: count(`Events.${record}.settled`) };
  const any = Object.values(stored).some((value) => value > 0);
  // Trade legs: a pair MATCHED or MISMATCHED took one waiting leg out of UNMATCHED; SETTLED legs were MATCHED.
  // Settlements: they pair straight to SETTLED or MISMATCHED, and a pair took one waiting settlement out.
  const statuses: StatusCounts | null = !any
    ? null
    : app === 'trade-matching'
      ? {
          UNMATCHED: stored.unmatched - (stored.matched + stored.mismatched) / 2,
          MATCHED: stored.matched - stored.settled,
          MISMATCHED: stored.mismatched,
          SETTLED: stored.settled,
        }
      : { UNMATCHED: stored.unmatched - (stored.settled + stored.mismatched) / 2, MISMATCHED: stored.mismatched, SETTLED: stored.settled };
  const ledger = app === 'settlement' ? { postingSets: count('LedgerPostingSets'), unbalancedSets: count('LedgerPostingSetsUnbalanced') } : null;
  return { statuses, ledger };
}
