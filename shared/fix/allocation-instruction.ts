import type { Nack } from '#domain/nack.ts';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { validateTradeLeg } from '#domain/trade-leg-validation.ts';
import { type FixField, FixMessage, fixTimestamp } from './codec.ts';
import { TAG } from './tags.ts';

/**
 * AllocationInstruction (35=J) ⇄ the trade leg of DESIGN §3.1, one leg per message (docs/fix.md has the table).
 * The FIX side is only translated here; whether the leg is valid is the domain's own validation, so a FIX client
 * gets the same NACK codes and reasons as a JSON client. Values pass through as sent (a price never becomes a
 * float, a quantity that is not an integer stays text) so the domain names the field that is wrong.
 */

export const PARTY_ROLE = { investmentManager: '13', broker: '1' } as const;

export type AllocationMapping =
  | { readonly ok: true; readonly allocId: string; readonly leg: TradeLeg; readonly body: string }
  | { readonly ok: false; readonly allocId: string | undefined; readonly nack: Nack };

/** Reads a 35=J sent by the party `senderParty` (the counterparty its SenderCompID is configured for). */
export function legOfAllocationInstruction(message: FixMessage, senderParty: string): AllocationMapping {
  const allocId = message.get(TAG.AllocID);
  const refuse = (nack: Nack): AllocationMapping => ({ ok: false, allocId, nack });
  if (!allocId) return refuse({ code: 'MISSING_FIELD', field: 'AllocID(70)', reason: 'missing field AllocID(70)' });
  const transType = message.get(TAG.AllocTransType);
  if (transType !== '0') {
    return refuse({ code: 'INVALID_FIELD', field: 'AllocTransType(71)', reason: `AllocTransType(71) must be 0 (New); got ${JSON.stringify(transType ?? null)}` });
  }
  const allocType = message.get(TAG.AllocType);
  if (allocType !== '1' && allocType !== '2') {
    return refuse({ code: 'INVALID_FIELD', field: 'AllocType(626)', reason: `AllocType(626) must be 1 (Calculated) or 2 (Preliminary); got ${JSON.stringify(allocType ?? null)}` });
  }

  const execs = execsOf(message);
  if (execs.entries.length !== 1 || !execs.entries[0]!.get(TAG.ExecID)) {
    return refuse({ code: execs.entries.length === 0 ? 'MISSING_FIELD' : 'INVALID_FIELD', field: 'tradeID', reason: `NoExecs(124) must hold exactly one ExecID(17), the tradeID; got ${execs.entries.length}` });
  }
  const parties = partiesOf(message);
  if ('nack' in parties) return refuse(parties.nack);

  const side = message.get(TAG.Side);
  const input: Record<string, unknown> = {
    senderID: senderParty,
    imID: parties.imID,
    brokerID: parties.brokerID,
    tradeID: execs.entries[0]!.get(TAG.ExecID),
    security: message.get(TAG.Symbol),
    transactionIndicator: side === '1' ? 'B' : side === '2' ? 'S' : side,
    price: message.get(TAG.AvgPx),
    quantity: integerOrText(message.get(TAG.Quantity)),
    tradeDate: isoDateOf(message.get(TAG.TradeDate)),
    settlementDate: isoDateOf(message.get(TAG.SettlDate)),
    deliveryInstructions: message.get(TAG.Text),
    allocations: message.group(TAG.NoAllocs, TAG.AllocAccount, [TAG.AllocQty, TAG.IndividualAllocID]).entries.map((entry) => ({
      allocationID: integerOrText(entry.get(TAG.IndividualAllocID)),
      quantity: integerOrText(entry.get(TAG.AllocQty)),
      account: entry.get(TAG.AllocAccount),
    })),
  };
  // A field absent from the message is absent from the leg, so the domain reports it as MISSING_FIELD.
  for (const key of Object.keys(input)) if (input[key] === undefined) delete input[key];
  const validation = validateTradeLeg(input);
  if (!validation.ok) return refuse(validation.nack);
  return { ok: true, allocId, leg: validation.leg, body: legBody(validation.leg) };
}

/**
 * The leg's JSON body, fields in the order of DESIGN §3.1. The same leg always gives the same bytes, and the TM
 * inbound gateway derives its message id from the bytes, so forwarding a leg again is recorded once.
 */
export function legBody(leg: TradeLeg): string {
  const ordered = {
    senderID: leg.senderID,
    imID: leg.imID,
    brokerID: leg.brokerID,
    tradeID: leg.tradeID,
    security: leg.security,
    transactionIndicator: leg.transactionIndicator,
    price: leg.price,
    quantity: leg.quantity,
    tradeDate: leg.tradeDate,
    settlementDate: leg.settlementDate,
    ...(leg.deliveryInstructions === undefined ? {} : { deliveryInstructions: leg.deliveryInstructions }),
    allocations: leg.allocations.map((allocation) => ({ allocationID: allocation.allocationID, quantity: allocation.quantity, account: allocation.account })),
  };
  return JSON.stringify(ordered);
}

/**
 * The NoExecs group: FIX 4.4 starts each entry with LastQty(32), which strict engines (QuickFIX among them) send and
 * expect; an entry of ExecID(17) alone, as earlier Rotor clients sent it, is read too.
 */
function execsOf(message: FixMessage): ReturnType<FixMessage['group']> {
  const standard = message.group(TAG.NoExecs, TAG.LastQty, [TAG.ExecID, TAG.LastPx]);
  return standard.entries.length > 0 ? standard : message.group(TAG.NoExecs, TAG.ExecID, [TAG.LastPx]);
}

/** The 35=J a client sends for a leg (the session adds the header). */
export function allocationInstructionOf(leg: TradeLeg, allocId: string, now: Date = new Date()): FixMessage {
  const fields: FixField[] = [
    [TAG.AllocID, allocId],
    [TAG.AllocTransType, '0'],
    [TAG.AllocType, '2'],
    [TAG.AllocNoOrdersType, '0'],
    [TAG.NoExecs, '1'],
    [TAG.LastQty, String(leg.quantity)],
    [TAG.ExecID, leg.tradeID],
    [TAG.Side, leg.transactionIndicator === 'B' ? '1' : '2'],
    [TAG.Symbol, leg.security],
    [TAG.Quantity, String(leg.quantity)],
    [TAG.AvgPx, leg.price],
    [TAG.TradeDate, leg.tradeDate.replaceAll('-', '')],
    [TAG.TransactTime, fixTimestamp(now)],
    [TAG.SettlDate, leg.settlementDate.replaceAll('-', '')],
    ...(leg.deliveryInstructions === undefined ? [] : ([[TAG.Text, leg.deliveryInstructions]] as FixField[])),
    [TAG.NoPartyIDs, '2'],
    [TAG.PartyID, leg.imID],
    [TAG.PartyIDSource, 'D'],
    [TAG.PartyRole, PARTY_ROLE.investmentManager],
    [TAG.PartyID, leg.brokerID],
    [TAG.PartyIDSource, 'D'],
    [TAG.PartyRole, PARTY_ROLE.broker],
    [TAG.NoAllocs, String(leg.allocations.length)],
    ...leg.allocations.flatMap((allocation): FixField[] => [
      [TAG.AllocAccount, allocation.account],
      [TAG.AllocQty, String(allocation.quantity)],
      [TAG.IndividualAllocID, String(allocation.allocationID)],
    ]),
  ];
  return FixMessage.of('J', fields);
}

/** 35=P, AllocStatus 3: the leg is durably in the FIX safe store. */
export function receivedAck(allocId: string, now: Date): FixMessage {
  return FixMessage.of('P', [[TAG.AllocID, allocId], [TAG.TransactTime, fixTimestamp(now)], [TAG.AllocStatus, '3']]);
}

/** 35=P, AllocStatus 1, AllocRejCode 7: `<NACK code>: <reason>` in Text. */
export function rejectedAck(allocId: string | undefined, nack: Nack, now: Date): FixMessage {
  return FixMessage.of('P', [
    [TAG.AllocID, allocId ?? 'UNKNOWN'],
    [TAG.TransactTime, fixTimestamp(now)],
    [TAG.AllocStatus, '1'],
    [TAG.AllocRejCode, '7'],
    [TAG.Text, `${nack.code}: ${nack.reason}`],
  ]);
}

export type LegOutcome = 'MATCHED' | 'MISMATCHED' | 'SETTLED';

/** 35=P reporting a later outcome: AllocStatus 0 for MATCHED/SETTLED, 1 for MISMATCHED; per allocation when given. */
export function outcomeAck(allocId: string, status: LegOutcome, now: Date, allocationID?: number): FixMessage {
  return FixMessage.of('P', [
    [TAG.AllocID, allocId],
    [TAG.TransactTime, fixTimestamp(now)],
    [TAG.AllocStatus, status === 'MISMATCHED' ? '1' : '0'],
    [TAG.Text, allocationID === undefined ? status : `ALLOCATION ${allocationID} ${status}`],
  ]);
}

function partiesOf(message: FixMessage): { imID: string | undefined; brokerID: string | undefined } | { nack: Nack } {
  const { entries } = message.group(TAG.NoPartyIDs, TAG.PartyID, [TAG.PartyIDSource, TAG.PartyRole]);
  let imID: string | undefined;
  let brokerID: string | undefined;
  for (const entry of entries) {
    const role = entry.get(TAG.PartyRole);
    if (entry.get(TAG.PartyIDSource) !== 'D') {
      return { nack: { code: 'INVALID_FIELD', field: 'PartyIDSource(447)', reason: 'PartyIDSource(447) must be D (proprietary) for every party' } };
    }
    if (role === PARTY_ROLE.investmentManager && imID === undefined) imID = entry.get(TAG.PartyID);
    else if (role === PARTY_ROLE.broker && brokerID === undefined) brokerID = entry.get(TAG.PartyID);
    else return { nack: { code: 'INVALID_FIELD', field: 'PartyRole(452)', reason: `PartyRole(452) must be 13 (investment manager) and 1 (broker), once each; got ${JSON.stringify(role ?? null)}` } };
  }
  return { imID, brokerID };
}

function integerOrText(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\d{1,15}$/.test(value) ? Number(value) : value;
}

function isoDateOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  return match ? `${match[1]}-${match[2]}-${match[3]}` : value;
}
