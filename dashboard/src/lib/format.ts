/** Plain, compact renderings of the snapshot's numbers. Nothing here invents a value: null shows as a dash. */

export const DASH = '—';

const counts = new Intl.NumberFormat('en-US');

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : counts.format(value);
}

/** 850 ms, 3.2 s, 4 m 05 s, 2 h 10 m. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return DASH;
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)} s`;
  const seconds = Math.floor(value / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} m`;
}

export function formatMB(value: number | null | undefined): string {
  return value === null || value === undefined ? DASH : `${Math.round(value)} MB`;
}

export function formatClock(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return DASH;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? DASH : date.toLocaleTimeString(undefined, { hour12: false });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toLocaleDateString()} ${date.toLocaleTimeString(undefined, { hour12: false })}`;
}

/** Milliseconds between two ISO times (to now when the second is absent). */
export function elapsedMs(fromIso: string, toIso: string | undefined, now: number): number | null {
  const from = Date.parse(fromIso);
  const to = toIso ? Date.parse(toIso) : now;
  return Number.isNaN(from) || Number.isNaN(to) ? null : Math.max(0, to - from);
}
