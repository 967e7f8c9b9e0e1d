/**
 * Business outcomes a stage counts as they commit — a leg MATCHED, a settlement SETTLED, a ledger posting set — and
 * publishes with its batch's metrics, so the dashboard and CloudWatch show trades by status without reading a
 * store. Counted once per effect: a redelivered record changes nothing and counts nothing.
 */
export class OutcomeCounts {
  readonly #counts = new Map<string, number>();

  add(name: string, count = 1): void {
    if (count !== 0) this.#counts.set(name, (this.#counts.get(name) ?? 0) + count);
  }

  /** The counts since the last drain, and zero from now on. */
  drain(): [string, number][] {
    const entries = [...this.#counts];
    this.#counts.clear();
    return entries;
  }
}

/** The metric an outbox event of the given type is counted under: `Events.trade.matched`, `Events.settlement.settled`, …. */
export const outcomeMetricName = (eventType: string) => `Events.${eventType}`;
export const LEDGER_POSTING_SETS_METRIC = 'LedgerPostingSets';
export const LEDGER_UNBALANCED_SETS_METRIC = 'LedgerPostingSetsUnbalanced';
