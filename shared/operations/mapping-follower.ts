import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { ObservedRoutingControlState } from '#shared/adapters/arc/cached-routing-controls.ts';
import type { EventSourceMappings, MappingState } from '#shared/ports/event-source-mappings.ts';
import { RoutingControlsUnreachableError, type RoutingControlState } from '#shared/ports/routing-controls.ts';

/**
 * The mapping follower: AWS's side of a trigger's `enabledBy`. Each gateway's MQ event-source mapping must consume
 * only while its routing control (`<app>-queue-<region>`) is On in its region; a passive region's gateway refuses
 * every batch, and the broker would dead-letter the messages waiting there to be forwarded. The twin's mapping
 * runner does this itself; on AWS a function scheduled every minute runs ticks every `everyMs` for `durationMs`, so
 * a flip is followed within about `everyMs`.
 *
 * Each tick, for each followed mapping:
 * - control On and mapping Disabled or Disabling → enable it; control Off and mapping Enabled or Enabling → disable it;
 * - a mapping already as its control says → unchanged;
 * - a mapping Creating, Updating or Deleting (or in a state AWS added since), or a control whose state is unknown
 *   (the cluster unreachable and the control never seen) → held: left as it is, and the reason noted.
 * Static stability: a control seen before keeps its last known state while the cluster cannot be reached (the
 * reader is a CachedRoutingControls, kept across invocations), so an ARC outage never moves a mapping, and never
 * leaves a mapping a caller changed by hand against the state last seen. Every step is idempotent, so overlapping
 * invocations are harmless. A mapping that fails (its control or its state unreadable, an update refused) is
 * reported and tried again next tick; it never stops the others.
 */

/** A run lasts about a minute, the schedule's period, and ticks every five seconds. */
export const MAPPING_FOLLOWER_DEFAULTS = { durationMs: 55_000, everyMs: 5_000 } as const;
/** The longest a run may last: a Lambda function's maximum timeout. */
const MAX_DURATION_MS = 900_000;

const ROUTING_CONTROL_NAME = /^[a-z0-9-]+$/;

export const FollowedMapping = z.strictObject({
  uuid: z.string().trim().min(1, { message: 'uuid must be a non-empty event-source mapping UUID' }),
  control: z.string().regex(ROUTING_CONTROL_NAME, {
    message: 'control must be a regional routing control name (lowercase letters, digits and -), e.g. trade-matching-queue-us-east-1',
  }),
});
export type FollowedMapping = z.infer<typeof FollowedMapping>;

/** `FOLLOWED_MAPPINGS`: which mappings of this region to follow, and the regional control each follows. */
export const FollowedMappings = z
  .array(FollowedMapping)
  .min(1, { message: 'name at least one mapping to follow' })
  .refine((mappings) => new Set(mappings.map((mapping) => mapping.uuid)).size === mappings.length, {
    message: 'each mapping uuid may be followed once (one mapping cannot follow two controls)',
  });
export type FollowedMappings = z.infer<typeof FollowedMappings>;

/** The follower's configuration is wrong: a deployment error, the same on every run until fixed. */
export class InvalidFollowedMappingsError extends Error {
  override readonly name = 'InvalidFollowedMappingsError';
  readonly transient = false;
}

/** Parses the JSON of `FOLLOWED_MAPPINGS`, e.g. `[{"uuid":"…","control":"trade-matching-queue-us-east-1"}]`. */
export function parseFollowedMappings(json: string | undefined, variable = 'FOLLOWED_MAPPINGS'): FollowedMappings {
  if (json === undefined || json.trim() === '') throw new InvalidFollowedMappingsError(`${variable} is not set`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new InvalidFollowedMappingsError(`${variable} is not JSON (expected [{"uuid": "…", "control": "…"}]): ${(error as Error).message}`);
  }
  const result = FollowedMappings.safeParse(parsed);
  if (!result.success) throw new InvalidFollowedMappingsError(`${variable} is not valid:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/**
 * What the function may be invoked with. EventBridge's scheduled event carries neither field (its own are ignored);
 * an operator may invoke it with `{"durationMs": 0}` for a single tick.
 */
export const MappingFollowerEvent = z.looseObject({
  durationMs: z.number().int().min(0).max(MAX_DURATION_MS).optional(),
  everyMs: z.number().int().min(1_000).max(MAX_DURATION_MS).optional(),
});
export type MappingFollowerEvent = z.infer<typeof MappingFollowerEvent>;

export interface FollowMappingsRequest {
  readonly mappings: readonly FollowedMapping[];
  /** Ticks start only while less than or exactly this long has passed since the first (55 000 ms by default). */
  readonly durationMs?: number;
  /** From the start of one tick to the start of the next (5 000 ms by default). */
  readonly everyMs?: number;
}

/** How the follower reads a control: a CachedRoutingControls (a live read, or the last known state when stale). */
export interface RoutingControlReader {
  getState(name: string): Promise<ObservedRoutingControlState>;
}

export interface MappingFollowerDependencies {
  readonly controls: RoutingControlReader;
  readonly mappings: EventSourceMappings;
  /** Epoch milliseconds; `Date.now` by default. */
  readonly now?: () => number;
  /** Waits between ticks; a real timer by default. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of every change, every failure, and of each mapping held (once per reason per run). */
  readonly log?: (event: MappingFollowerLogEvent) => void;
}

export interface MappingChange {
  readonly uuid: string;
  readonly control: string;
  /** What the mapping was set to. */
  readonly enabled: boolean;
  /** The mapping's state before. */
  readonly from: MappingState;
  readonly controlState: RoutingControlState;
  /** True when the control's state was the last known one (the cluster unreachable). */
  readonly stale: boolean;
  readonly at: string;
}

export type HoldReason = 'control-unknown' | 'mapping-transitional' | 'mapping-state-unknown';

/** A mapping left as it was, and why; one entry per mapping and reason, counting the ticks it applied to. */
export interface MappingHeld {
  readonly uuid: string;
  readonly control: string;
  readonly reason: HoldReason;
  readonly detail: string;
  /** The mapping's state, when it was read. */
  readonly mappingState?: MappingState;
  readonly ticks: number;
  readonly firstAt: string;
  readonly lastAt: string;
}

export interface MappingError {
  readonly uuid: string;
  readonly control: string;
  /** `<error name>: <message>`. */
  readonly error: string;
  /** Whether the error says a later try may succeed (a busy mapping, an API outage) or not (a missing mapping). */
  readonly transient: boolean;
  readonly at: string;
}

export interface MappingFollowerResult {
  readonly ticks: number;
  readonly changes: MappingChange[];
  /** Checks (mapping × tick) that found the mapping already as its control says. */
  readonly unchanged: number;
  readonly held: MappingHeld[];
  /** One entry per failed check: a mapping failing on every tick appears once per tick. */
  readonly errors: MappingError[];
}

export type MappingFollowerLogEvent =
  | { readonly kind: 'changed'; readonly change: MappingChange }
  | { readonly kind: 'held'; readonly held: Omit<MappingHeld, 'ticks' | 'lastAt'> }
  | { readonly kind: 'failed'; readonly error: MappingError };

const ENABLED: ReadonlySet<MappingState> = new Set(['Enabled', 'Enabling']);
const DISABLED: ReadonlySet<MappingState> = new Set(['Disabled', 'Disabling']);
const TRANSITIONAL: ReadonlySet<MappingState> = new Set(['Creating', 'Updating', 'Deleting']);

type ControlReading =
  | { readonly kind: 'known'; readonly observed: ObservedRoutingControlState }
  | { readonly kind: 'unknown'; readonly error: RoutingControlsUnreachableError }
  | { readonly kind: 'failed'; readonly error: unknown };

type Outcome =
  | { readonly kind: 'changed'; readonly change: MappingChange }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'held'; readonly reason: HoldReason; readonly detail: string; readonly mappingState?: MappingState }
  | { readonly kind: 'failed'; readonly error: unknown };

export async function followMappings(request: FollowMappingsRequest, deps: MappingFollowerDependencies): Promise<MappingFollowerResult> {
  const durationMs = request.durationMs ?? MAPPING_FOLLOWER_DEFAULTS.durationMs;
  const everyMs = request.everyMs ?? MAPPING_FOLLOWER_DEFAULTS.everyMs;
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError(`durationMs must be a number >= 0, not ${durationMs}`);
  if (!Number.isFinite(everyMs) || everyMs <= 0) throw new RangeError(`everyMs must be a number > 0, not ${everyMs}`);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => delay(ms));
  const log = deps.log ?? (() => undefined);

  const changes: MappingChange[] = [];
  const errors: MappingError[] = [];
  const held = new Map<string, MappingHeld>();
  let unchanged = 0;
  let ticks = 0;

  const start = now();
  let tickStart = start;
  for (;;) {
    const at = new Date(tickStart).toISOString();
    const outcomes = await tick(request.mappings, deps, now);
    ticks++;
    request.mappings.forEach((mapping, index) => {
      const outcome = outcomes[index]!;
      switch (outcome.kind) {
        case 'changed':
          changes.push(outcome.change);
          log({ kind: 'changed', change: outcome.change });
          break;
        case 'unchanged':
          unchanged++;
          break;
        case 'held': {
          const key = `${mapping.uuid}\u0000${outcome.reason}`;
          const before = held.get(key);
          const entry: MappingHeld = {
            uuid: mapping.uuid,
            control: mapping.control,
            reason: outcome.reason,
            detail: outcome.detail,
            ...(outcome.mappingState === undefined ? {} : { mappingState: outcome.mappingState }),
            ticks: (before?.ticks ?? 0) + 1,
            firstAt: before?.firstAt ?? at,
            lastAt: at,
          };
          held.set(key, entry);
          if (!before) {
            const { ticks: _ticks, lastAt: _lastAt, ...first } = entry;
            log({ kind: 'held', held: first });
          }
          break;
        }
        case 'failed': {
          const error: MappingError = { uuid: mapping.uuid, control: mapping.control, error: describe(outcome.error), transient: isTransient(outcome.error), at };
          errors.push(error);
          log({ kind: 'failed', error });
          break;
        }
      }
    });

    // The next tick starts everyMs after this one started (at once if this one took longer), and never after durationMs.
    const next = Math.max(tickStart + everyMs, now());
    if (next - start > durationMs) break;
    const wait = next - now();
    if (wait > 0) await sleep(wait);
    // Never earlier than planned, even if a timer fires early: each tick moves the run on by at least everyMs.
    tickStart = Math.max(now(), next);
    if (tickStart - start > durationMs) break;
  }

  return { ticks, changes, unchanged, held: [...held.values()], errors };
}

/** One pass over every mapping, in parallel; each control is read once per tick, however many mappings follow it. */
async function tick(mappings: readonly FollowedMapping[], deps: MappingFollowerDependencies, now: () => number): Promise<Outcome[]> {
  const readings = new Map<string, Promise<ControlReading>>();
  const readingOf = (control: string) => {
    let reading = readings.get(control);
    if (!reading) {
      reading = readControl(deps.controls, control);
      readings.set(control, reading);
    }
    return reading;
  };
  return Promise.all(mappings.map(async (mapping) => follow(mapping, await readingOf(mapping.control), deps.mappings, now)));
}

async function readControl(controls: RoutingControlReader, control: string): Promise<ControlReading> {
  try {
    return { kind: 'known', observed: await controls.getState(control) };
  } catch (error) {
    // Only a control never seen surfaces the outage: one seen before is answered from its last known state.
    if (error instanceof RoutingControlsUnreachableError) return { kind: 'unknown', error };
    return { kind: 'failed', error };
  }
}

async function follow(mapping: FollowedMapping, reading: ControlReading, mappings: EventSourceMappings, now: () => number): Promise<Outcome> {
  if (reading.kind === 'failed') return { kind: 'failed', error: reading.error };
  if (reading.kind === 'unknown') {
    return {
      kind: 'held',
      reason: 'control-unknown',
      detail: `the routing-control cluster is unreachable and ${mapping.control} has not been seen since this function started, so the mapping is left as it is`,
    };
  }
  try {
    const { state: controlState, stale } = reading.observed;
    const mappingState = await mappings.state(mapping.uuid);
    const wantEnabled = controlState === 'On';
    if (TRANSITIONAL.has(mappingState)) {
      return { kind: 'held', reason: 'mapping-transitional', mappingState, detail: `the mapping is ${mappingState}; it is followed once that settles` };
    }
    if (!ENABLED.has(mappingState) && !DISABLED.has(mappingState)) {
      return { kind: 'held', reason: 'mapping-state-unknown', mappingState, detail: `the mapping is in a state the follower does not know (${mappingState}); it is left as it is` };
    }
    if (ENABLED.has(mappingState) === wantEnabled) return { kind: 'unchanged' };
    await mappings.setEnabled(mapping.uuid, wantEnabled);
    const at = new Date(now()).toISOString();
    return { kind: 'changed', change: { uuid: mapping.uuid, control: mapping.control, enabled: wantEnabled, from: mappingState, controlState, stale, at } };
  } catch (error) {
    return { kind: 'failed', error };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isTransient(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { transient?: unknown }).transient === true;
}
