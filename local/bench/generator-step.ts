import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_MIX, type PairMix } from '#domain/generator.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import type { RunningTwin } from '#local/controller/controller.ts';
import { legBody, legsOfRun, type GeneratorResult } from '#shared/load/generator-run.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { responseId } from '#shared/verification/judge.ts';
import type { BacklogSample } from '#local/bench/sustained-rate.ts';
import type { TrackedLeg, TwinProbe } from '#local/bench/twin-probe.ts';

/**
 * One measured generator run: the `generator` function of the active trade-matching region sends at a rate for a
 * while (as `rotor up --rate` and `rotor generate` do), the backlog is sampled meanwhile, and afterwards the bench
 * waits for the legs it sent to reach their terminal state, as `rotor verify` judges it: the response carrying
 * the status the ground truth expects (simulated over exactly the legs sent) delivered on the out queue. For a
 * matched pair that is SETTLED, which only goes out once every allocation's settlement came back from the
 * settlement app, so the settlement app and its ledger are inside every such leg's journey.
 */

export interface GeneratorStepRequest {
  readonly rate: number;
  readonly seconds: number;
  readonly seed: number;
  /** Longest wait, after the generator returned, for the legs to become terminal. */
  readonly settleSeconds: number;
  readonly sampleMs: number;
  readonly mix?: PairMix;
}

export interface GeneratorStep {
  readonly request: GeneratorStepRequest;
  readonly result: GeneratorResult;
  /** Epoch ms at which the generator was invoked. */
  readonly startedAt: number;
  readonly legs: TrackedLeg[];
  readonly samples: BacklogSample[];
  /** Message id → epoch ms of its terminal response's delivery. */
  readonly terminal: Map<string, number>;
  readonly settleSeconds: number;
}

const TERMINAL_POLL_MS = 2_000;

/** The legs of a generator run as the bench follows them, with the status each must end in. */
export async function trackedLegs(run: { seed: number; pairs: number; mix: PairMix; legsSent: number }, queue: string): Promise<TrackedLeg[]> {
  const bodies = legsOfRun(run).map((generated) => ({ leg: generated.leg, body: legBody(generated) }));
  const expected = await simulate(bodies.map(({ body }, index) => ({ index, body })));
  return bodies.flatMap(({ leg, body }) => {
    const tradeId = TradeLeg.id(leg);
    const status = expected.trades[tradeId];
    return status === undefined
      ? []
      : [{ messageId: MessageId.of(queue, body), tradeId, pairKey: TradeLeg.partitionKey(leg), expected: status, terminalId: responseId(tradeId, status) }];
  });
}

export async function runGeneratorStep(twin: RunningTwin, probe: TwinProbe, request: GeneratorStepRequest): Promise<GeneratorStep> {
  const region = twin.activeRegion('trade-matching');
  const generator = twin.topology.functions.find((fn) => fn.name === 'generator');
  const outQueue = generator?.env.OUT_QUEUE;
  const queue = twin.queueName(region, typeof outQueue === 'object' && 'queue' in outQueue ? outQueue.queue : 'tm.trades');
  const mix = request.mix ?? DEFAULT_MIX;
  const samples: BacklogSample[] = [];
  const began = performance.now();
  const startedAt = Date.now();
  const sampling = new AbortController();
  const sampler = (async () => {
    while (!sampling.signal.aborted) {
      const sample = await probe.backlog((performance.now() - began) / 1000).catch(() => undefined);
      if (sample) samples.push(sample);
      await delay(request.sampleMs, undefined, { signal: sampling.signal }).catch(() => undefined);
    }
  })();
  try {
    const result = await twin.invoke<GeneratorResult>('generator', { rate: request.rate, durationSeconds: request.seconds, seed: request.seed, mix }, { app: 'trade-matching' });
    const legs = await trackedLegs({ seed: result.seed, pairs: result.pairs, mix, legsSent: result.legsSent }, queue);
    const settleBegan = performance.now();
    const terminal = await waitForTerminal(probe, legs, new Map(), request.settleSeconds);
    return { request, result, startedAt, legs, samples, terminal, settleSeconds: (performance.now() - settleBegan) / 1000 };
  } finally {
    sampling.abort();
    await sampler;
  }
}

/** Polls until every leg is terminal or `seconds` passed; adds to `terminal` and returns it. */
export async function waitForTerminal(probe: TwinProbe, legs: readonly TrackedLeg[], terminal: Map<string, number>, seconds: number): Promise<Map<string, number>> {
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    const pending = legs.filter((leg) => !terminal.has(leg.messageId));
    if (pending.length === 0) break;
    for (const [id, at] of await probe.terminalTimes(pending)) terminal.set(id, at);
    if (terminal.size >= legs.length || performance.now() >= deadline) break;
    await delay(Math.min(TERMINAL_POLL_MS, Math.max(0, deadline - performance.now())));
  }
  return terminal;
}
