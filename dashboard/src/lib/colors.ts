import type { DashboardSnapshot } from '../../../shared/dashboard/contract.ts';

/** Line colours, distinguishable for common colour-vision deficiencies (Okabe–Ito). */
export const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'] as const;

export const colorAt = (index: number) => PALETTE[index % PALETTE.length]!;

/** Each region keeps its colour on every chart: its place in the snapshot's region list. */
export function regionColor(region: string, snapshot: DashboardSnapshot): string {
  const index = snapshot.regions.findIndex((entry) => entry.region === region);
  return colorAt(index < 0 ? snapshot.regions.length : index);
}
