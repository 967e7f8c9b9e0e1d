import { Decimal } from './decimal.ts';
import { Settlement } from './settlement.ts';

/** Ledger postings for a SETTLED settlement pair (DESIGN §3.5), in exact decimals. */

export const DEFAULT_FEE_BPS = 2;
const BPS_PER_UNIT = 10_000n;

export type Posting =
  | { account: string; kind: 'cash'; amount: Decimal }
  | { account: string; kind: 'security'; security: string; quantity: bigint };

export interface PostingSet {
  /** The settlement pair id: a pair is posted once, whichever leg's settlement closed it. */
  pairId: string;
  postings: Posting[];
}

export interface LedgerRepository {
  /** Records the set unless one with the same pair id exists; resolves whether it was recorded now. */
  post(set: PostingSet): Promise<boolean>;
}

export class InvalidFeeError extends Error {
  override readonly name = 'InvalidFeeError';
  constructor(readonly feeBps: number) {
    super(`feeBps must be a whole number of basis points from 0 to 10000, got ${feeBps}`);
  }
}

export const brokerAccount = (brokerID: string) => `broker:${brokerID}`;

export const Ledger = {
  /** Cash amount = allocation quantity × price; fee = amount × feeBps / 10,000, half-even to 2 decimals. */
  amounts(settlement: Settlement, feeBps = DEFAULT_FEE_BPS): { amount: Decimal; fee: Decimal } {
    if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new InvalidFeeError(feeBps);
    const amount = Decimal.parse(settlement.price).times(settlement.quantity);
    const fee = amount.scaleRounded(BigInt(feeBps), BPS_PER_UNIT, 2);
    return { amount, fee };
  },

  /**
   * The client account receives the security on a buy (`B`) and pays the amount; on a sell (`S`) the opposite.
   * The fee always moves from the client to the broker.
   */
  postingsFor(settlement: Settlement, feeBps = DEFAULT_FEE_BPS): PostingSet {
    const { amount, fee } = Ledger.amounts(settlement, feeBps);
    const client = settlement.account;
    const broker = brokerAccount(settlement.brokerID);
    const quantity = BigInt(settlement.quantity);
    const buy = settlement.transactionIndicator === 'B';
    const clientCash = (buy ? amount.negated() : amount).minus(fee);
    const brokerCash = (buy ? amount : amount.negated()).plus(fee);
    return {
      pairId: Settlement.pairId(settlement),
      postings: [
        { account: client, kind: 'security', security: settlement.security, quantity: buy ? quantity : -quantity },
        { account: broker, kind: 'security', security: settlement.security, quantity: buy ? -quantity : quantity },
        { account: client, kind: 'cash', amount: clientCash },
        { account: broker, kind: 'cash', amount: brokerCash },
      ],
    };
  },

  /** Cash deltas sum to zero and each security's deltas sum to zero. */
  isBalanced(postings: readonly Posting[]): boolean {
    let cash = Decimal.ZERO;
    const securities = new Map<string, bigint>();
    for (const posting of postings) {
      if (posting.kind === 'cash') cash = cash.plus(posting.amount);
      else securities.set(posting.security, (securities.get(posting.security) ?? 0n) + posting.quantity);
    }
    return cash.isZero() && [...securities.values()].every((sum) => sum === 0n);
  },
} as const;

/** Running balances per account, as `rotor simulate` reports them (DESIGN §5). */
export class LedgerBalances {
  readonly #cash = new Map<string, Decimal>();
  readonly #securities = new Map<string, Map<string, bigint>>();

  apply(set: PostingSet): void {
    for (const posting of set.postings) {
      if (posting.kind === 'cash') {
        this.#cash.set(posting.account, (this.#cash.get(posting.account) ?? Decimal.ZERO).plus(posting.amount));
      } else {
        const holdings = this.#securities.get(posting.account) ?? new Map<string, bigint>();
        holdings.set(posting.security, (holdings.get(posting.security) ?? 0n) + posting.quantity);
        this.#securities.set(posting.account, holdings);
      }
    }
  }

  get balanced(): boolean {
    const totals = new Map<string, bigint>();
    for (const holdings of this.#securities.values()) {
      for (const [security, quantity] of holdings) totals.set(security, (totals.get(security) ?? 0n) + quantity);
    }
    return Decimal.sum(this.#cash.values()).isZero() && [...totals.values()].every((sum) => sum === 0n);
  }

  toJSON(): { cash: Record<string, string>; securities: Record<string, Record<string, number>>; balanced: boolean } {
    const sortedKeys = <V>(map: Map<string, V>) => [...map.keys()].sort();
    return {
      cash: Object.fromEntries(sortedKeys(this.#cash).map((account) => [account, this.#cash.get(account)!.toString()])),
      securities: Object.fromEntries(
        sortedKeys(this.#securities).map((account) => {
          const holdings = this.#securities.get(account)!;
          return [account, Object.fromEntries(sortedKeys(holdings).map((s) => [s, Number(holdings.get(s)!)]))];
        }),
      ),
      balanced: this.balanced,
    };
  }
}
