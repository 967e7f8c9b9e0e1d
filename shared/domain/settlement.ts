import { z } from 'zod';
import { Decimal } from './decimal.ts';
import { type Nack, repeatedId } from './nack.ts';
import type { SettlementStatus } from './status.ts';
import { TradeLeg } from './trade-leg.ts';
import type { TradeRecord } from './trade-matching.ts';

/** One allocation of one MATCHED leg, to be paired with the other leg's (DESIGN §3.4). */

const schema = TradeLeg.schema.omit({ allocations: true, quantity: true }).extend({
  allocationID: TradeLeg.allocationSchema.shape.allocationID,
  quantity: TradeLeg.allocationSchema.shape.quantity,
  account: TradeLeg.allocationSchema.shape.account,
});
export type Settlement = z.infer<typeof schema>;

export interface SettlementRecord {
  id: string;
  settlement: Settlement;
  status: SettlementStatus;
}

export interface SettlementRepository {
  get(id: string): Promise<SettlementRecord | undefined>;
  insert(record: SettlementRecord): Promise<void>;
  /** Moves `id` from `from` to `to`; implementations refuse the write if the stored status is not `from`. */
  updateStatus(id: string, from: SettlementStatus, to: SettlementStatus): Promise<void>;
}

export class SettlementOfUnmatchedTradeError extends Error {
  override readonly name = 'SettlementOfUnmatchedTradeError';
  constructor(readonly tradeId: string, readonly status: string) {
    super(`trade ${tradeId} is ${status}; only MATCHED legs produce settlements`);
  }
}

/** The fields both legs' settlements must agree on to settle. */
const SETTLING_FIELDS = ['security', 'transactionIndicator', 'quantity', 'tradeDate', 'settlementDate', 'account'] as const;

export const Settlement = {
  schema,

  /** `<trade id>-<allocationID>` (DESIGN §3.2). */
  id: (s: Pick<Settlement, 'senderID' | 'imID' | 'brokerID' | 'tradeID' | 'allocationID'>) =>
    `${TradeLeg.id(s)}-${s.allocationID}`,

  /** `imID-brokerID-tradeID-allocationID`: one per pair, the ledger's key. */
  pairId: (s: Pick<Settlement, 'imID' | 'brokerID' | 'tradeID' | 'allocationID'>) =>
    `${s.imID}-${s.brokerID}-${s.tradeID}-${s.allocationID}`,

  counterpartId: (s: Settlement) =>
    Settlement.id({ ...s, senderID: s.senderID === s.imID ? s.brokerID : s.imID }),

  partitionKey: (s: Pick<Settlement, 'imID' | 'brokerID' | 'tradeID' | 'allocationID'>) =>
    `${s.imID}|${s.brokerID}|${s.tradeID}|${s.allocationID}`,

  /** Egress: one settlement per allocation of a MATCHED leg, fields copied from the trade. */
  fromMatchedTrade(trade: TradeRecord): Settlement[] {
    if (trade.status !== 'MATCHED') throw new SettlementOfUnmatchedTradeError(trade.id, trade.status);
    const { allocations, quantity: _blockQuantity, ...common } = trade.leg;
    return allocations.map((allocation) => ({ ...common, ...allocation }));
  },

  agree: (a: Settlement, b: Settlement) =>
    SETTLING_FIELDS.every((field) => a[field] === b[field]) && Decimal.parse(a.price).equals(Decimal.parse(b.price)),

  sameContent: (a: Settlement, b: Settlement) =>
    TradeLeg.sameContent(asLeg(a), asLeg(b)) && a.allocationID === b.allocationID,
} as const;

const asLeg = (s: Settlement): TradeLeg => {
  const { allocationID, account, quantity, ...rest } = s;
  return { ...rest, quantity, allocations: [{ allocationID, account, quantity }] };
};

export type PairingDecision =
  | { kind: 'duplicate'; existing: SettlementRecord }
  | { kind: 'conflict'; nack: Nack }
  | { kind: 'unmatched'; record: SettlementRecord }
  | { kind: 'settled' | 'mismatched'; record: SettlementRecord; counterpart: SettlementRecord };

/** Pairs the two legs' settlements of one allocation: SETTLED when every settling field agrees, else MISMATCHED. */
export function decidePairing(
  settlement: Settlement,
  existing: SettlementRecord | undefined,
  counterpartCandidate: SettlementRecord | undefined,
): PairingDecision {
  const id = Settlement.id(settlement);
  if (existing) {
    return repeatedId('settlement', id, TradeLeg.id(settlement), existing, Settlement.sameContent(existing.settlement, settlement));
  }
  const counterpart = counterpartCandidate?.status === 'UNMATCHED' ? counterpartCandidate : undefined;
  if (!counterpart) return { kind: 'unmatched', record: { id, settlement, status: 'UNMATCHED' } };
  const status = Settlement.agree(settlement, counterpart.settlement) ? 'SETTLED' : 'MISMATCHED';
  return {
    kind: status === 'SETTLED' ? 'settled' : 'mismatched',
    record: { id, settlement, status },
    counterpart: { ...counterpart, status },
  };
}

export async function pairSettlement(settlement: Settlement, settlements: SettlementRepository): Promise<PairingDecision> {
  const [existing, candidate] = await Promise.all([
    settlements.get(Settlement.id(settlement)),
    settlements.get(Settlement.counterpartId(settlement)),
  ]);
  const decision = decidePairing(settlement, existing, candidate);
  if (decision.kind === 'unmatched') await settlements.insert(decision.record);
  if (decision.kind === 'settled' || decision.kind === 'mismatched') {
    await settlements.updateStatus(decision.counterpart.id, 'UNMATCHED', decision.counterpart.status);
    await settlements.insert(decision.record);
  }
  return decision;
}
