import { useEffect, useState } from 'react';
import type { DashboardSnapshot } from '../../../shared/dashboard/contract.ts';

export interface HistoryPoint {
  /** Snapshot time, ms since the epoch. */
  readonly at: number;
  readonly values: Readonly<Record<string, number | null>>;
}

/**
 * A rolling record of values the snapshot carries only as "now" (replication lag, for one), kept from the moment
 * the page opened so they can be drawn over time. One point per distinct snapshot, at most `limit`.
 */
export function useHistory(
  snapshot: DashboardSnapshot | null,
  pick: (snapshot: DashboardSnapshot) => Record<string, number | null>,
  limit: number,
): readonly HistoryPoint[] {
  const [points, setPoints] = useState<readonly HistoryPoint[]>([]);
  useEffect(() => {
    if (!snapshot) return;
    const at = Date.parse(snapshot.at);
    setPoints((previous) => {
      if (previous.length > 0 && previous[previous.length - 1]!.at >= at) return previous;
      return [...previous, { at, values: pick(snapshot) }].slice(-limit);
    });
    // `pick` is a pure selector; a new snapshot is the only reason to record.
  }, [snapshot, limit]);
  return points;
}
