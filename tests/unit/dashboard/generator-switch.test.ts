import { describe, expect, it } from 'vitest';
import { GeneratorLoop, GeneratorSwitch, GeneratorUnavailableError } from '#local/controller/generator-loop.ts';
import { waitFor } from '#tests/support/wait.ts';

/**
 * The dashboard starts, stops and restarts the generator loop. A run already invoked cannot be called back (Lambda
 * has no cancel), so a retired loop waits for its answer and counts its legs; only the twin stopping aborts it.
 */

interface Invocation {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly signal: AbortSignal;
  finish(legsSent: number): void;
}

function fakeGenerator() {
  const invocations: Invocation[] = [];
  const created: number[] = [];
  const sw = new GeneratorSwitch({
    create: (rate, runSeconds) => {
      created.push(rate);
      return new GeneratorLoop({
        rate,
        runSeconds,
        notify: () => undefined,
        pauseMs: 10,
        invoke: (payload, signal) =>
          new Promise((resolve, reject) => {
            invocations.push({ ...payload, signal, finish: (legsSent) => resolve({ region: 'us-east-1', result: { runId: `run-${invocations.length}`, legsSent } }) });
            signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      });
    },
  });
  return { sw, invocations, created };
}

describe('GeneratorSwitch', () => {
  it('is null before any start, then runs at the rate asked for with runs of the length asked for', async () => {
    // Prepare
    const { sw, invocations } = fakeGenerator();
    const before = sw.status();

    // Act
    const started = await sw.start(4, 15);
    await waitFor(() => invocations.length === 1, { what: 'the first invocation' });

    // Assess
    expect(before).toBeNull();
    expect(started).toMatchObject({ rate: 4, runs: 0, legsSent: 0 });
    expect(invocations[0]).toMatchObject({ rate: 4, durationSeconds: 15 });
    expect(sw.status()).toMatchObject({ state: 'running', rate: 4 });
    expect(sw.status()!.reason).toBeUndefined();
  });

  it('keeps a loop already running at the same rate, and at a new rate retires the old one, counting the legs of its last run', async () => {
    // Prepare
    const { sw, invocations, created } = fakeGenerator();
    await sw.start(4);
    await waitFor(() => invocations.length === 1, { what: 'the first run' });

    // Act
    await sw.start(4);
    const restarted = await sw.start(10);
    await waitFor(() => invocations.length === 2, { what: 'the run at the new rate' });
    invocations[0]!.finish(7);
    await waitFor(() => sw.status()!.legsSent === 7, { what: 'the old run to be counted' });

    // Assess
    expect(created).toEqual([4, 10]);
    expect(restarted.rate).toBe(10);
    expect(invocations[0]!.signal.aborted).toBe(false);
    expect(invocations[1]).toMatchObject({ rate: 10 });
    expect(sw.status()).toMatchObject({ state: 'running', rate: 10, runs: 1, legsSent: 7 });
  });

  it('stops by letting the run in flight end (stopping, then stopped), and starts again afterwards', async () => {
    // Prepare
    const { sw, invocations } = fakeGenerator();
    await sw.start(2);
    await waitFor(() => invocations.length === 1, { what: 'a run' });

    // Act
    const stopping = await sw.stop('stopped from the dashboard');
    invocations[0]!.finish(3);
    await waitFor(() => sw.status()!.state === 'stopped', { what: 'the loop to end' });
    const stopped = sw.status();
    const invokedWhileStopped = invocations.length;
    await sw.start(2);

    // Assess
    expect(stopping).toMatchObject({ state: 'stopping', reason: 'stopped from the dashboard; a run in flight ends first' });
    expect(stopped).toMatchObject({ state: 'stopped', reason: 'stopped from the dashboard', legsSent: 3, runs: 1 });
    expect(invokedWhileStopped).toBe(1);
    expect(sw.status()).toMatchObject({ rate: 2, legsSent: 3 });
  });

  it('aborts every run in flight when the twin stops', async () => {
    // Prepare
    const { sw, invocations } = fakeGenerator();
    await sw.start(2);
    await waitFor(() => invocations.length === 1, { what: 'a run' });
    await sw.start(3);
    await waitFor(() => invocations.length === 2, { what: 'a second run' });

    // Act
    const status = await sw.stop('the twin is stopping', { abortInFlight: true });

    // Assess
    expect(invocations.every((invocation) => invocation.signal.aborted)).toBe(true);
    expect(status).toMatchObject({ state: 'stopped', reason: 'the twin is stopping', rate: 3 });
  });

  it('refuses to start without a generator function, and says why in its status', async () => {
    // Prepare
    const sw = new GeneratorSwitch({ create: () => { throw new Error('not called'); }, unavailable: 'functions/generator.ts is not written yet' });

    // Act
    const start = sw.start(5);

    // Assess
    await expect(start).rejects.toBeInstanceOf(GeneratorUnavailableError);
    expect(sw.status()).toEqual({ rate: 5, state: 'unavailable', reason: 'functions/generator.ts is not written yet', runs: 0, legsSent: 0 });
  });
});
