import { useEffect, useState } from 'react';
import type { DashboardSnapshot } from '../../../shared/dashboard/contract.ts';
import { UnauthorizedError, errorMessage } from '../api/client.ts';
import { eventsUrl, fetchSnapshot } from '../api/endpoints.ts';
import { useNow } from './useNow.ts';

/** No snapshot for this long (the server pushes one a second) and the page says its numbers are stale. */
export const STALE_AFTER_MS = 3000;
const MAX_RETRY_MS = 10_000;

export type Connection = 'connecting' | 'open' | 'reconnecting' | 'unauthorized';

export interface SnapshotState {
  readonly snapshot: DashboardSnapshot | null;
  /** Browser time the last snapshot arrived. */
  readonly receivedAt: number | null;
  readonly stale: boolean;
  readonly connection: Connection;
  /** Why the stream is down, while it is. */
  readonly problem: string | null;
}

/**
 * The twin's snapshot, pushed over /api/events. EventSource gives no status on a failed connection, so on error
 * the stream is closed and one GET /api/snapshot asks the same question with the bearer header: a 401 stops
 * everything (the token is wrong), anything else is retried with backoff, and an answer is shown meanwhile.
 */
export function useSnapshot(token: string | null): SnapshotState {
  const [snapshot, setSnapshot] = useState<DashboardSnapshot | null>(null);
  const [receivedAt, setReceivedAt] = useState<number | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [problem, setProblem] = useState<string | null>(null);
  const now = useNow(1000);

  useEffect(() => {
    if (!token) return;
    let source: EventSource | null = null;
    let retryTimer: number | undefined;
    let attempt = 0;
    let disposed = false;

    let lastSnapshotAt: number | null = null;
    const accept = (next: DashboardSnapshot) => {
      lastSnapshotAt = Date.now();
      setSnapshot(next);
      setReceivedAt(lastSnapshotAt);
    };
    const onSnapshot = (event: MessageEvent<string>) => {
      try {
        accept(JSON.parse(event.data) as DashboardSnapshot);
        attempt = 0;
        setConnection('open');
        setProblem(null);
      } catch (error) {
        setProblem(`unreadable snapshot: ${errorMessage(error)}`);
      }
    };
    const connect = () => {
      if (disposed) return;
      source = new EventSource(eventsUrl(token));
      source.addEventListener('snapshot', onSnapshot as EventListener);
      source.onerror = () => {
        // A stream that ended after its snapshot (the AWS dashboard answers one event and a `retry:`) is followed by
        // the browser itself; only a refused or long-silent stream is probed.
        if (source?.readyState === EventSource.CONNECTING && lastSnapshotAt !== null && Date.now() - lastSnapshotAt < STALE_AFTER_MS) return;
        source?.close();
        source = null;
        if (disposed) return;
        setConnection('reconnecting');
        void probeThenRetry();
      };
    };
    const probeThenRetry = async () => {
      try {
        const probed = await fetchSnapshot(token);
        if (disposed) return;
        accept(probed);
        setProblem('live updates interrupted; reconnecting');
      } catch (error) {
        if (disposed) return;
        if (error instanceof UnauthorizedError) {
          setConnection('unauthorized');
          setProblem(error.message);
          return;
        }
        setProblem(`server unreachable: ${errorMessage(error)}`);
      }
      const delay = Math.min(1000 * 2 ** attempt, MAX_RETRY_MS);
      attempt += 1;
      retryTimer = window.setTimeout(connect, delay);
    };

    setConnection('connecting');
    connect();
    return () => {
      disposed = true;
      source?.close();
      window.clearTimeout(retryTimer);
    };
  }, [token]);

  const stale = receivedAt === null || now - receivedAt > STALE_AFTER_MS;
  return { snapshot, receivedAt, stale, connection, problem };
}
