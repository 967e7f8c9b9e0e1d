import { describe, expect, it } from 'vitest';
import { drainSeconds, judgeStep, nextRate, startRateFor, sustainedRate, type BacklogSample, type RampPlan, type StepObservation } from '#local/bench/sustained-rate.ts';

const samples = (count: number, at: (t: number) => Omit<BacklogSample, 't'>): BacklogSample[] =>
  Array.from({ length: count }, (_, i) => ({ t: i * 2, ...at(i * 2) }));

const aStep = (overrides: Partial<StepObservation> = {}): StepObservation => ({
  rate: 10,
  seconds: 20,
  legsSent: 200,
  sendSeconds: 20,
  samples: samples(11, () => ({ iteratorAgeMs: 1_500, maxIteratorAgeMs: 600, queueDepth: 3 })),
  terminal: 200,
  settleSeconds: 4,
  drainSeconds: 3,
  ...overrides,
});

describe('sustained-rate decision', () => {
  it('calls a step sustained when backlogs stay flat and every leg became terminal', () => {
    // Act
    const verdict = judgeStep(aStep());

    // Assess
    expect(verdict).toMatchObject({ bounded: true, reasons: [], sendRate: 10, terminalFraction: 1, peakIteratorAgeMs: 1_500, peakMaxIteratorAgeMs: 600, peakQueueDepth: 3 });
  });

  it('calls it not sustained when one stage\'s iterator age kept growing and the backlog took long to drain', () => {
    // Prepare
    const step = aStep({ samples: samples(11, (t) => ({ iteratorAgeMs: 900 + 600 * t, maxIteratorAgeMs: 500 + 600 * t, queueDepth: 0 })), drainSeconds: 14 });

    // Act
    const verdict = judgeStep(step);

    // Assess
    expect(verdict.bounded).toBe(false);
    expect(verdict.reasons).toEqual(['a Kinesis iterator age grew 600 ms/s to 12500 ms, and draining took 14 s']);
    expect(verdict.peakIteratorAgeMs).toBe(12_900);
  });

  it('lets a growing age pass when the backlog drained quickly (a retried record, load still building up)', () => {
    // Prepare
    const step = aStep({ samples: samples(11, (t) => ({ iteratorAgeMs: 900 + 600 * t, maxIteratorAgeMs: 500 + 600 * t, queueDepth: 0 })), drainSeconds: 6 });

    // Act
    const verdict = judgeStep(step);

    // Assess
    expect(verdict.bounded).toBe(true);
    expect(verdict.growth).toEqual(['a Kinesis iterator age grew 600 ms/s to 12500 ms']);
  });

  it('does not mistake the pipeline filling up (more mappings busy, their summed age rising) for a growing backlog', () => {
    // Prepare: the sum climbs as stage after stage gets records; no single stage falls behind
    const step = aStep({ samples: samples(11, (t) => ({ iteratorAgeMs: 700 * t, maxIteratorAgeMs: 900, queueDepth: 2 })) });

    // Act / Assess
    expect(judgeStep(step).bounded).toBe(true);
  });

  it('tolerates an age that grows while it is still small (poll intervals)', () => {
    // Prepare
    const step = aStep({ samples: samples(11, (t) => ({ iteratorAgeMs: 100 * t, maxIteratorAgeMs: 100 * t, queueDepth: 0 })) });

    // Act / Assess
    expect(judgeStep(step).bounded).toBe(true);
  });

  it('calls it not sustained when the inbound queue piles up', () => {
    // Prepare
    const step = aStep({ samples: samples(11, (t) => ({ iteratorAgeMs: 800, maxIteratorAgeMs: 400, queueDepth: 4 * t })), drainSeconds: 11 });

    // Act
    const verdict = judgeStep(step);

    // Assess
    expect(verdict.bounded).toBe(false);
    expect(verdict.reasons).toEqual(['MQ queue depth grew 4 messages/s to 80, and draining took 11 s']);
  });

  it('calls it not sustained when legs are still on their way after the settle wait, or the generator fell short', () => {
    // Act
    const late = judgeStep(aStep({ terminal: 150, settleSeconds: 15, drainSeconds: null }));
    const slowGenerator = judgeStep(aStep({ legsSent: 200, sendSeconds: 31 }));

    // Assess
    expect(late.reasons).toEqual(['150 of 200 legs terminal 15 s after the generator stopped']);
    expect(slowGenerator.reasons).toEqual(['the generator sent 200 of 200 legs at 6.5 legs/s']);
  });

  it('measures the drain as the time until 98% of the legs were terminal', () => {
    // Prepare: 100 legs, stopped at t = 10 s; the 98th leg became terminal at 17 s
    const times = Array.from({ length: 100 }, (_, i) => (i < 98 ? 8_000 + i * 92 : 30_000));
    times[97] = 17_000;

    // Act / Assess
    expect(drainSeconds(times, 100, 10_000)).toBe(7);
    expect(drainSeconds(times.slice(0, 97), 100, 10_000)).toBeNull();
    expect(drainSeconds([5_000], 1, 10_000)).toBe(0);
  });

  it('starts the ramp at a power of two near a quarter of the ceiling', () => {
    expect(startRateFor(9)).toBe(2);
    expect(startRateFor(300)).toBe(64);
    expect(startRateFor(2)).toBe(1);
    expect(startRateFor(null)).toBe(2);
  });

  it('ramps up by the factor, then refines between the last sustained and the first unsustained rate', () => {
    // Prepare
    const plan: RampPlan = { startRate: 2, factor: 2, minRate: 0.5, maxSteps: 10, refineSteps: 2, refineRatio: 1.25 };
    const capacity = 11;
    const history: { rate: number; bounded: boolean; sendRate: number }[] = [];

    // Act
    for (let rate = nextRate(history, plan); rate !== undefined; rate = nextRate(history, plan)) history.push({ rate, bounded: rate <= capacity, sendRate: rate });

    // Assess
    expect(history.map((step) => step.rate)).toEqual([2, 4, 8, 16, 11.31, 9.51]);
    expect(sustainedRate(history)?.rate).toBe(9.51);
  });

  it('steps down from an unsustained start, and gives up below the minimum rate', () => {
    // Prepare
    const plan: RampPlan = { startRate: 2, factor: 2, minRate: 0.5, maxSteps: 10, refineSteps: 0, refineRatio: 2 };

    // Act
    const down = nextRate([{ rate: 2, bounded: false, sendRate: 2 }], plan);
    const none = nextRate([{ rate: 2, bounded: false, sendRate: 2 }, { rate: 1, bounded: false, sendRate: 1 }, { rate: 0.5, bounded: false, sendRate: 0.5 }], plan);
    const done = nextRate([{ rate: 2, bounded: true, sendRate: 2 }, { rate: 4, bounded: false, sendRate: 4 }], plan);

    // Assess
    expect(down).toBe(1);
    expect(none).toBeUndefined();
    expect(done).toBeUndefined();
    expect(sustainedRate([{ rate: 2, bounded: false, sendRate: 2 }])).toBeUndefined();
  });

  it('treats an unsustained rate below a sustained one as noise and keeps climbing', () => {
    // Prepare
    const plan: RampPlan = { startRate: 2, factor: 2, minRate: 0.5, maxSteps: 10, refineSteps: 1, refineRatio: 1.25 };
    const history = [{ rate: 4, bounded: false, sendRate: 4 }, { rate: 2, bounded: true, sendRate: 2 }, { rate: 8, bounded: true, sendRate: 8 }];

    // Act / Assess
    expect(nextRate(history, plan)).toBe(16);
  });
});
