import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { DEFAULT_MIX, generateRun, PairMix, type GeneratedLeg } from '#domain/generator.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';

/**
 * The load generator (DESIGN §3.6): sends a seeded run of trade legs to trade matching's inbound queue at a given
 * rate, and records the run — seed, pairs, mix and how many legs were sent — so `rotor verify` can rebuild the
 * ground truth of exactly what was sent. It honours the generator routing control and stops when it goes Off.
 */

export const GeneratorRequest = z
  .strictObject({
    pairs: z.int().min(1).max(1_000_000).optional(),
    /** Legs per second; omitted: as fast as the broker takes them. */
    rate: z.number().positive().max(100_000).optional(),
    /** With `rate` and no `pairs`: run for this long. */
    durationSeconds: z.number().positive().max(900).optional(),
    seed: z.int().min(0).max(0xffffffff).optional(),
    mix: PairMix.optional(),
  })
  .refine((request) => request.pairs !== undefined || (request.rate !== undefined && request.durationSeconds !== undefined), {
    message: 'give pairs, or rate and durationSeconds',
  });
export type GeneratorRequest = z.infer<typeof GeneratorRequest>;

export const GeneratorRun = z.object({
  id: z.string(),
  seed: z.int(),
  pairs: z.int(),
  mix: PairMix,
  rate: z.number().nullable(),
  queue: z.string(),
  startedAt: z.string(),
  /** The first `legsSent` legs of the run, in its order, are on the queue. */
  legsSent: z.int(),
  status: z.enum(['running', 'complete', 'stopped', 'failed']),
  stoppedBy: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type GeneratorRun = z.infer<typeof GeneratorRun>;

export interface GeneratorRunStore {
  save(run: GeneratorRun): Promise<void>;
  all(): Promise<GeneratorRun[]>;
}

export interface GeneratorDependencies {
  readonly broker: MessageBroker;
  readonly queue: string;
  readonly runs: GeneratorRunStore;
  /** Whether the generator routing control is On (cached by the caller). */
  readonly mayGenerate: () => Promise<boolean>;
  /**
   * Whether clients send trade legs to this region now (its trade-matching dns control On). Once the edge has moved
   * away — a rotation, a recovery — the run stops, and the caller starts the next run where the edge points.
   */
  readonly servesHere?: () => Promise<boolean>;
  /** Milliseconds left before the function must return. */
  readonly remainingMs?: () => number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface GeneratorResult {
  readonly runId: string;
  readonly seed: number;
  readonly pairs: number;
  readonly legsSent: number;
  readonly durationMs: number;
  readonly stoppedBy?: 'generator-control-off' | 'region-not-active' | 'time-limit';
}

/** Legs sent together; progress is recorded after each chunk. */
const CHUNK = 50;
/** A paced run looks at its routing controls about once a second, so a rotation moves it within a second or two. */
const chunkSize = (rate: number | undefined) => (rate === undefined ? CHUNK : Math.max(1, Math.min(CHUNK, Math.floor(rate))));
const PROGRESS_EVERY_MS = 1_000;
const STOP_BEFORE_DEADLINE_MS = 5_000;

/** The run's legs, in sending order, exactly as `runGenerator` sent them: what verify rebuilds. */
export function legsOfRun(run: Pick<GeneratorRun, 'seed' | 'pairs' | 'mix' | 'legsSent'>): GeneratedLeg[] {
  return generateRun({ pairs: run.pairs, seed: run.seed, mix: run.mix }).legs.slice(0, run.legsSent);
}

export const legBody = (leg: GeneratedLeg) => JSON.stringify(leg.leg);

export async function runGenerator(request: GeneratorRequest, deps: GeneratorDependencies): Promise<GeneratorResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const seed = request.seed ?? randomInt(0, 0xffffffff);
  const pairs = request.pairs ?? Math.max(1, Math.ceil(((request.rate ?? 1) * (request.durationSeconds ?? 1)) / 2));
  const mix = request.mix ?? DEFAULT_MIX;
  const startedAt = now();
  const { legs } = generateRun({ pairs, seed, mix, ...(request.rate ? { rate: request.rate } : {}) });
  const run: GeneratorRun = {
    id: `run-${new Date(startedAt).toISOString().replace(/[-:.]/g, '')}-${seed.toString(36)}`,
    seed,
    pairs,
    mix,
    rate: request.rate ?? null,
    queue: deps.queue,
    startedAt: new Date(startedAt).toISOString(),
    legsSent: 0,
    status: 'running',
  };
  await deps.runs.save(run);

  let stoppedBy: GeneratorResult['stoppedBy'];
  let lastProgress = startedAt;
  try {
    const size = chunkSize(request.rate);
    for (let start = 0; start < legs.length; start += size) {
      const chunk = legs.slice(start, start + size);
      const due = startedAt + chunk[0]!.offsetMs;
      if (due > now()) await sleep(due - now());
      if ((deps.remainingMs?.() ?? Infinity) < STOP_BEFORE_DEADLINE_MS) {
        stoppedBy = 'time-limit';
        break;
      }
      if (!(await deps.mayGenerate())) {
        stoppedBy = 'generator-control-off';
        break;
      }
      if (deps.servesHere && !(await deps.servesHere())) {
        stoppedBy = 'region-not-active';
        break;
      }
      // Within a chunk, legs due later wait for their time, so the rate holds at any chunk size.
      await Promise.all(
        chunk.map(async (leg) => {
          const legDue = startedAt + leg.offsetMs;
          if (legDue > now()) await sleep(legDue - now());
          await deps.broker.send(deps.queue, legBody(leg));
        }),
      );
      run.legsSent = start + chunk.length;
      if (now() - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = now();
        await deps.runs.save(run);
      }
    }
    run.status = stoppedBy ? 'stopped' : 'complete';
    if (stoppedBy) run.stoppedBy = stoppedBy;
  } catch (error) {
    run.status = 'failed';
    run.stoppedBy = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw error;
  } finally {
    run.finishedAt = new Date(now()).toISOString();
    await deps.runs.save(run);
  }
  return { runId: run.id, seed, pairs, legsSent: run.legsSent, durationMs: now() - startedAt, ...(stoppedBy ? { stoppedBy } : {}) };
}
