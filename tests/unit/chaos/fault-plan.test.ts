import { describe, expect, it } from 'vitest';
import { FaultPlan, InvalidFaultError, parseRegionFault } from '#local/chaos/fault-plan.ts';

/** The region's fault plan: which faults apply to what, how often, until when, and crashes once per delivery. */

const NOW = 1_000_000;
const fault = (overrides: Record<string, unknown> = {}) => parseRegionFault({ id: 'f1', kind: 'duplicate-put', targets: ['tm-egress'], probability: 1, expiresAt: NOW + 10_000, ...overrides });

describe('FaultPlan', () => {
  it('strikes only the kind and targets it names, and counts each strike', () => {
    // Prepare
    const plan = new FaultPlan(() => 0, () => NOW);
    plan.add(fault());

    // Act
    const hits = [plan.strikes('duplicate-put', 'tm-egress'), plan.strikes('duplicate-put', 'tm-matching'), plan.strikes('duplicate-send', 'tm-egress')];

    // Assess
    expect(hits).toEqual([true, false, false]);
    expect(plan.list()).toEqual([expect.objectContaining({ id: 'f1', strikes: 1 })]);
  });

  it('applies to every target when it names none', () => {
    // Prepare
    const plan = new FaultPlan(() => 0, () => NOW);
    plan.add(fault({ targets: [] }));

    // Act / Assess
    expect(plan.strikes('duplicate-put', 'anything')).toBe(true);
  });

  it('strikes with its probability: a draw at or above it passes', () => {
    // Prepare
    let draw = 0.29;
    const plan = new FaultPlan(() => draw, () => NOW);
    plan.add(fault({ probability: 0.3 }));

    // Act
    const low = plan.strikes('duplicate-put', 'tm-egress');
    draw = 0.3;
    const high = plan.strikes('duplicate-put', 'tm-egress');

    // Assess
    expect([low, high]).toEqual([true, false]);
  });

  it('stops applying once expired, and drops out of the list', () => {
    // Prepare
    let now = NOW;
    const plan = new FaultPlan(() => 0, () => now);
    plan.add(fault());

    // Act
    now = NOW + 10_000;

    // Assess
    expect(plan.strikes('duplicate-put', 'tm-egress')).toBe(false);
    expect(plan.list()).toEqual([]);
  });

  it('crashes a delivery once: the same batch delivered again goes through, another batch is struck', () => {
    // Prepare
    const plan = new FaultPlan(() => 0, () => NOW);
    plan.add(fault({ kind: 'crash-after-effects' }));

    // Act
    const first = plan.strikesOnce('crash-after-effects', 'tm-egress', 'seq-1|10');
    const redelivery = plan.strikesOnce('crash-after-effects', 'tm-egress', 'seq-1|10');
    const other = plan.strikesOnce('crash-after-effects', 'tm-egress', 'seq-11|10');

    // Assess
    expect([first, redelivery, other]).toEqual([true, false, true]);
  });

  it('is emptied by remove and clear', () => {
    // Prepare
    const plan = new FaultPlan(() => 0, () => NOW);
    plan.add(fault());
    plan.add(fault({ id: 'f2' }));

    // Act
    const removed = plan.remove('f1');
    plan.clear();

    // Assess
    expect(removed).toBe(true);
    expect(plan.strikes('duplicate-put', 'tm-egress')).toBe(false);
  });
});

describe('parseRegionFault', () => {
  it.each([
    ['an unknown kind', { kind: 'explode' }],
    ['a probability above 1', { probability: 1.5 }],
    ['no expiry', { expiresAt: undefined }],
    ['an unknown field', { extra: true }],
  ])('refuses %s', (_, overrides) => {
    // Act / Assess
    expect(() => fault(overrides)).toThrow(InvalidFaultError);
  });

  it('defaults to every target, always', () => {
    // Act
    const parsed = parseRegionFault({ id: 'x', kind: 'throttle-kinesis', expiresAt: NOW });

    // Assess
    expect(parsed).toMatchObject({ targets: [], probability: 1 });
  });
});
