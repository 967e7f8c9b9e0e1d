import type { VerifyProgress, VerifyResult } from '#shared/verification/verify-run.ts';

/**
 * `rotor verify`'s wait, shared with the drills: judge once, and while legs are still on their way poll their
 * cheap progress (gateway acks and matching-store statuses), asking for the full verdict only once every judged
 * leg is where it should end, or when time is up. Between two polls the pause is twice what the last one took, so
 * verification never takes more than a third of the judged region's time.
 */

const MIN_POLL_MS = 2_000;

export type VerifyInvoke = (payload: { cutoff?: Record<string, number>; progress?: boolean }) => Promise<VerifyResult | VerifyProgress>;

export async function verifyWhenArrived(invoke: VerifyInvoke, options: { timeoutMs: number; onWaiting?: (progress: VerifyProgress) => void }): Promise<VerifyResult> {
  const deadline = Date.now() + options.timeoutMs;
  let result = (await invoke({})) as VerifyResult;
  const cutoff = result.cutoff;
  let tookMs = 0;
  while (!result.ok && Date.now() < deadline && (result.lost > 0 || result.legs_acked < result.legs_sent)) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(MIN_POLL_MS, 2 * tookMs), Math.max(0, deadline - Date.now()))));
    const began = performance.now();
    const progress = (await invoke({ cutoff, progress: true })) as VerifyProgress;
    tookMs = performance.now() - began;
    const arrived = progress.legs_acked === progress.legs_sent && progress.legs_terminal === progress.legs_sent;
    if (arrived || Date.now() >= deadline) result = (await invoke({ cutoff })) as VerifyResult;
    if (!arrived) options.onWaiting?.(progress);
  }
  return result;
}
