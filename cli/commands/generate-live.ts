import type { PairMix } from '#domain/generator.ts';
import { TwinClient } from '#local/controller/twin-client.ts';
import type { GeneratorResult } from '#shared/load/generator-run.ts';
import type { CommandIO } from '../io.ts';

/** `rotor generate` against the running twin: the generator function of trade matching's active region. */

const PROGRESS_EVERY_MS = 5_000;

export async function generateOnTwin(
  request: { pairs: number; seed: number; mix: PairMix; rate?: number },
  dataDir: string,
  json: boolean,
  io: CommandIO,
): Promise<number> {
  const client = await TwinClient.connect(dataDir);
  const region = await client.activeRegion('trade-matching');
  const legs = request.pairs * 2;
  const expectedSeconds = request.rate ? legs / request.rate : undefined;
  io.err(`Sending ${legs} legs (${request.pairs} pairs, seed ${request.seed}) to ${region}${request.rate ? ` at ${request.rate} legs/s (about ${Math.ceil(expectedSeconds!)} s)` : ''}…\n`);
  const began = Date.now();
  const ticker = setInterval(() => {
    const elapsed = (Date.now() - began) / 1000;
    io.err(`  ${elapsed.toFixed(0)} s${expectedSeconds ? ` of about ${Math.ceil(expectedSeconds)} s` : ''}…\n`);
  }, PROGRESS_EVERY_MS);
  let result: GeneratorResult;
  try {
    result = await client.invoke<GeneratorResult>('generator', request, { app: 'trade-matching' });
  } finally {
    clearInterval(ticker);
  }
  if (json) io.out(`${JSON.stringify({ region, ...result })}\n`);
  else {
    io.out(`Run ${result.runId}: ${result.legsSent} of ${legs} legs sent to ${region} in ${(result.durationMs / 1000).toFixed(1)} s (seed ${result.seed}).\n`);
    if (result.stoppedBy === 'generator-control-off') io.out('Stopped early: the trade-matching-generator routing control is Off.\n');
    if (result.stoppedBy === 'time-limit') io.out('Stopped early: the generator function reached its time limit; send the rest in another run.\n');
    io.out('Judge it with `rotor verify`.\n');
  }
  return result.stoppedBy ? 1 : 0;
}
