import { useCallback, useEffect, useState } from 'react';
import type { StateMachineView } from '../../../shared/dashboard/contract.ts';
import { errorMessage } from '../api/client.ts';
import { fetchStateMachines } from '../api/endpoints.ts';

/** The manifest's state machines with their definitions, fetched once (they do not change while the twin runs). */
export function useStateMachines(token: string) {
  const [machines, setMachines] = useState<readonly StateMachineView[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let cancelled = false;
    fetchStateMachines(token)
      .then((list) => {
        if (!cancelled) {
          setMachines(list);
          setProblem(null);
        }
      })
      .catch((error: unknown) => {
        if (!cancelled) setProblem(errorMessage(error));
      });
    return () => {
      cancelled = true;
    };
  }, [token, attempt]);
  const retry = useCallback(() => setAttempt((count) => count + 1), []);
  return { machines, problem, retry };
}
