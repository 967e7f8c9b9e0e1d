import { z } from 'zod';

/** A rejected message (DESIGN §3.2): persisted and answered on the out queue, never silently dropped. */

export const NackCode = z.enum([
  'MALFORMED_JSON',
  'OVERSIZED',
  'MISSING_FIELD',
  'INVALID_FIELD',
  'SENDER_NOT_PARTY',
  'ALLOCATION_SUM_MISMATCH',
  'SETTLEMENT_BEFORE_TRADE',
  'CONFLICTING_DUPLICATE',
]);
export type NackCode = z.infer<typeof NackCode>;

export const Nack = z.strictObject({
  code: NackCode,
  reason: z.string().min(1),
  /** The offending field as a path (`allocations[1].quantity`), when one field is to blame. */
  field: z.string().optional(),
  /** The trade id, when the message carried enough valid id fields to derive it. */
  tradeId: z.string().optional(),
});
export type Nack = z.infer<typeof Nack>;

/** A second message under a stored id: nothing to do when it says the same, a CONFLICTING_DUPLICATE when not. */
export function repeatedId<R extends { status: string }>(
  what: 'trade' | 'settlement',
  id: string,
  tradeId: string,
  existing: R,
  sameContent: boolean,
): { kind: 'duplicate'; existing: R } | { kind: 'conflict'; nack: Nack } {
  if (sameContent) return { kind: 'duplicate', existing };
  return {
    kind: 'conflict',
    nack: {
      code: 'CONFLICTING_DUPLICATE',
      tradeId,
      reason: `${what} ${id} was already received with different content; the first version stands (${existing.status})`,
    },
  };
}
