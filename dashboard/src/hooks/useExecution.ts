import { useEffect, useState } from 'react';
import type { ExecutionView } from '../../../shared/dashboard/contract.ts';
import { errorMessage } from '../api/client.ts';
import { fetchExecution } from '../api/endpoints.ts';

const POLL_MS = 1000;

/**
 * One execution with its state-by-state history, re-read every second while it runs. `hint` (the status the
 * snapshot lists for it) re-reads it once more when it changes, so the final states show without delay.
 */
export function useExecution(token: string, name: string | null, hint: string | undefined) {
  const [execution, setExecution] = useState<ExecutionView | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setExecution(null);
    setProblem(null);
  }, [name]);
  useEffect(() => {
    if (!name) return;
    let cancelled = false;
    let timer: number | undefined;
    const read = async () => {
      try {
        const view = await fetchExecution(token, name);
        if (cancelled) return;
        setExecution(view);
        setProblem(null);
        if (view.status === 'RUNNING') timer = window.setTimeout(read, POLL_MS);
      } catch (error) {
        if (cancelled) return;
        setProblem(errorMessage(error));
        timer = window.setTimeout(read, POLL_MS * 3);
      }
    };
    void read();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [token, name, hint]);
  return { execution, problem };
}
