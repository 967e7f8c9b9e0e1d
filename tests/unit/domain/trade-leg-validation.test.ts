import { describe, expect, it } from 'vitest';
import { validateTradeLeg, validateTradeLegMessage } from '#domain/trade-leg-validation.ts';
import { aBrokerLeg, anImLeg, aRawLeg, bodyOf } from '#tests/factories/trade-legs.ts';

const nackOf = (body: string) => {
  const result = validateTradeLegMessage(body);
  if (result.ok) throw new Error('expected a NACK, the leg was accepted');
  return result.nack;
};

describe('trade leg validation', () => {
  it('accepts the DESIGN example leg from either party', () => {
    // Act
    const fromIm = validateTradeLegMessage(bodyOf(anImLeg()));
    const fromBroker = validateTradeLegMessage(bodyOf(aBrokerLeg()));

    // Assess
    expect(fromIm).toEqual({ ok: true, leg: anImLeg() });
    expect(fromBroker.ok).toBe(true);
  });

  it('accepts a leg without delivery instructions, a single allocation and same-day settlement', () => {
    // Prepare
    const leg = aRawLeg(
      { quantity: 5, settlementDate: '2026-11-23', allocations: [{ allocationID: 7, quantity: 5, account: 'A1' }] },
      ['deliveryInstructions'],
    );

    // Act / Assess
    expect(validateTradeLeg(leg).ok).toBe(true);
  });

  it('NACKs a body that is not JSON as MALFORMED_JSON', () => {
    // Act
    const nack = nackOf('{"senderID": "QAINS012",');

    // Assess
    expect(nack.code).toBe('MALFORMED_JSON');
    expect(nack.reason).toMatch(/not valid JSON/);
  });

  it.each(['[]', '"a leg"', '42', 'null'])('NACKs JSON that is not an object (%s) as MALFORMED_JSON', (body) => {
    // Act / Assess
    expect(nackOf(body)).toMatchObject({ code: 'MALFORMED_JSON', reason: 'body must be a JSON object' });
  });

  it('NACKs a body over 256 KiB as OVERSIZED before parsing it', () => {
    // Prepare: valid JSON, just too big (multi-byte characters count as bytes, not characters)
    const body = bodyOf(aRawLeg({ deliveryInstructions: 'é'.repeat(131_100) }));

    // Act
    const nack = nackOf(body);

    // Assess
    expect(nack.code).toBe('OVERSIZED');
    expect(nack.reason).toContain('262144');
  });

  it.each(['senderID', 'imID', 'brokerID', 'tradeID', 'security', 'transactionIndicator', 'price', 'quantity', 'tradeDate', 'settlementDate', 'allocations'])(
    'NACKs a leg without %s as MISSING_FIELD naming it',
    (field) => {
      // Act
      const nack = nackOf(bodyOf(aRawLeg({}, [field])));

      // Assess
      expect(nack).toMatchObject({ code: 'MISSING_FIELD', field });
      expect(nack.reason).toContain(field);
    },
  );

  it('names a missing field inside an allocation by its path', () => {
    // Prepare
    const allocations = [{ allocationID: 1, quantity: 600, account: '1' }, { allocationID: 2, quantity: 400 }];

    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ allocations })))).toMatchObject({ code: 'MISSING_FIELD', field: 'allocations[1].account' });
  });

  it.each([
    ['senderID', 'QA-INS'],
    ['tradeID', 'X'.repeat(21)],
    ['security', 'amzn'],
    ['transactionIndicator', 'BUY'],
    ['price', 12.5],
    ['price', '0'],
    ['price', '-1'],
    ['price', '12.1234567'],
    ['price', '1e3'],
    ['quantity', 10.5],
    ['quantity', '1000'],
    ['tradeDate', '2026-02-30'],
    ['settlementDate', '24/11/2026'],
    ['deliveryInstructions', 'line\nbreak'],
    ['allocations', []],
  ])('NACKs %s = %j as INVALID_FIELD naming the field', (field, value) => {
    // Act
    const nack = nackOf(bodyOf(aRawLeg({ [field]: value })));

    // Assess
    expect(nack).toMatchObject({ code: 'INVALID_FIELD', field });
    expect(nack.reason.startsWith(field)).toBe(true);
  });

  it('NACKs more than 100 allocations as INVALID_FIELD', () => {
    // Prepare
    const allocations = Array.from({ length: 101 }, (_, i) => ({ allocationID: i + 1, quantity: 10, account: 'A' }));

    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ allocations, quantity: 1010 })))).toMatchObject({ code: 'INVALID_FIELD', field: 'allocations' });
  });

  it('NACKs an allocation with a zero quantity, naming its path', () => {
    // Prepare
    const allocations = [{ allocationID: 1, quantity: 1000, account: 'A' }, { allocationID: 2, quantity: 0, account: 'B' }];

    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ allocations })))).toMatchObject({ code: 'INVALID_FIELD', field: 'allocations[1].quantity' });
  });

  it('NACKs unknown fields, at the top level and inside allocations, as INVALID_FIELD', () => {
    // Prepare
    const allocations = [{ allocationID: 1, quantity: 1000, account: 'A', status: 'Unmatched' }];

    // Act
    const topLevel = nackOf(bodyOf(aRawLeg({ status: 'Unmatched' })));
    const nested = nackOf(bodyOf(aRawLeg({ allocations })));

    // Assess
    expect(topLevel).toMatchObject({ code: 'INVALID_FIELD', field: 'status', reason: 'unknown field status' });
    expect(nested).toMatchObject({ code: 'INVALID_FIELD', field: 'allocations[0].status' });
  });

  it('NACKs duplicate allocation ids as INVALID_FIELD naming the second one', () => {
    // Prepare
    const allocations = [{ allocationID: 1, quantity: 600, account: 'A' }, { allocationID: 1, quantity: 400, account: 'B' }];

    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ allocations })))).toMatchObject({ code: 'INVALID_FIELD', field: 'allocations[1].allocationID' });
  });

  it('NACKs a sender that is neither party as SENDER_NOT_PARTY', () => {
    // Act
    const nack = nackOf(bodyOf(aRawLeg({ senderID: 'OTHER01' })));

    // Assess
    expect(nack).toMatchObject({ code: 'SENDER_NOT_PARTY', field: 'senderID', tradeId: 'OTHER01-QAINS012-QABRO010-4821937' });
  });

  it('NACKs a trade whose investment manager and broker are the same party', () => {
    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ brokerID: 'QAINS012' })))).toMatchObject({ code: 'INVALID_FIELD', field: 'brokerID' });
  });

  it('NACKs allocations off by one from the block quantity as ALLOCATION_SUM_MISMATCH', () => {
    // Act
    const nack = nackOf(bodyOf(aRawLeg({ quantity: 1001 })));

    // Assess
    expect(nack.code).toBe('ALLOCATION_SUM_MISMATCH');
    expect(nack.reason).toBe('allocation quantities sum to 1000 but the block quantity is 1001');
  });

  it('NACKs a settlement date before the trade date as SETTLEMENT_BEFORE_TRADE', () => {
    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ settlementDate: '2026-11-22' })))).toMatchObject({
      code: 'SETTLEMENT_BEFORE_TRADE',
      field: 'settlementDate',
    });
  });

  it('carries the trade id on a NACK when the id fields are valid, so the answer can be correlated', () => {
    // Act / Assess
    expect(nackOf(bodyOf(aRawLeg({ price: 'abc' }))).tradeId).toBe('QAINS012-QAINS012-QABRO010-4821937');
    expect(nackOf(bodyOf(aRawLeg({ tradeID: 'bad id' }))).tradeId).toBeUndefined();
  });

  it('says how many other problems a message has', () => {
    // Act
    const nack = nackOf(bodyOf(aRawLeg({ price: 'x', quantity: -1 })));

    // Assess
    expect(nack.reason).toMatch(/\(and 1 more problem\)$/);
  });
});
