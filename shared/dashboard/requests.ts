import { z } from 'zod';
import type { ChaosRequest, GeneratorRequest, RegionRequest, StartExecutionRequest } from '#shared/dashboard/contract.ts';

/** The dashboard API's request bodies (contract.ts), checked before anything acts on them. */

/** The generator function's own ceiling (shared/load/generator-run.ts). */
export const MAX_GENERATOR_RATE = 100_000;

export const RoutingControlRequestBody = z.strictObject({
  state: z.enum(['On', 'Off'], { error: 'must be "On" or "Off"' }),
});

export const GeneratorRequestBody: z.ZodType<GeneratorRequest> = z.discriminatedUnion(
  'action',
  [
    z.strictObject({
      action: z.literal('start'),
      rate: z
        .number({ error: 'must be a number of legs per second' })
        .positive({ error: 'must be above 0 legs per second' })
        .max(MAX_GENERATOR_RATE, { error: `may be at most ${MAX_GENERATOR_RATE} legs per second` }),
    }),
    z.strictObject({ action: z.literal('stop') }),
  ],
  { error: 'must be "start" (with a rate) or "stop"' },
);

export const StartExecutionRequestBody: z.ZodType<StartExecutionRequest & { region?: string }> = z.strictObject({
  stateMachine: z.string({ error: 'must name a state machine, e.g. tm-rotation' }).regex(/^[a-z0-9-]{1,80}$/, { error: 'must name a state machine, e.g. tm-rotation' }),
  input: z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }),
  /** Beyond the contract: the region to run in (default: input.targetRegion, else the app's active region). */
  region: z.string().regex(/^[a-z0-9-]{1,40}$/, { error: 'must name a region of the twin, e.g. us-west-2' }).optional(),
});

export const RegionRequestBody: z.ZodType<RegionRequest> = z.strictObject({
  action: z.enum(['stop', 'kill', 'start'], { error: 'must be "stop", "kill" or "start"' }),
});

export const ChaosRequestBody: z.ZodType<ChaosRequest> = z.discriminatedUnion(
  'action',
  [
    z.strictObject({
      action: z.literal('start'),
      targets: z.array(z.string().regex(/^[A-Za-z0-9.:_-]{1,80}$/, { error: 'must name a target, e.g. tm-matching' })).max(40).optional(),
      durationSeconds: z.number({ error: 'must be a number of seconds' }).positive({ error: 'must be above 0 seconds' }).max(3_600, { error: 'may be at most 3600 seconds' }).optional(),
    }),
    z.strictObject({ action: z.literal('stop') }),
  ],
  { error: 'must be "start" (with optional targets and durationSeconds) or "stop"' },
);

/** One line per problem, e.g. `rate: must be above 0 legs per second`; bodies that are not objects are refused before. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}
