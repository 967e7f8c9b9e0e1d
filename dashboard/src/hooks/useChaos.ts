import { useCallback, useEffect, useState } from 'react';
import type { ChaosView } from '../../../shared/dashboard/contract.ts';
import { errorMessage } from '../api/client.ts';
import { fetchChaos } from '../api/endpoints.ts';

const POLL_MS = 2_000;

/** The chaos catalogue and runs, asked every two seconds while the view is open; `refresh` asks at once. */
export function useChaos(token: string) {
  const [chaos, setChaos] = useState<ChaosView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let cancelled = false;
    fetchChaos(token)
      .then((view) => {
        if (cancelled) return;
        setChaos(view);
        setProblem(null);
      })
      .catch((error: unknown) => {
        if (!cancelled) setProblem(errorMessage(error));
      });
    const timer = window.setTimeout(() => setTick((count) => count + 1), POLL_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [token, tick]);
  const refresh = useCallback(() => setTick((count) => count + 1), []);
  return { chaos, problem, refresh };
}
