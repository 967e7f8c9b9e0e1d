import { readFileIfPresent, writeFileDurably } from '#local/support/state-files.ts';
import type { Change } from '#local/global/aurora/change-capture.ts';
import { RoleStateError } from '#local/global/aurora/errors.ts';

/** A region cut off by a failover: its data may hold changes the new writer never received. */
export interface DetachedRegion {
  /** The last LSN of the old writer's log that the promoted secondary had applied. */
  readonly promotionLsn: number;
  readonly failedOverAt: string;
}

/** Changes a returning old writer had committed after the promotion point: the missing-transaction report's input. */
export interface UnreplicatedTail {
  readonly region: string;
  readonly promotionLsn: number;
  readonly recordedAt: string;
  readonly changes: readonly Change[];
}

export interface RoleState {
  readonly writer: string;
  /** Increases with every switchover and failover. */
  readonly generation: number;
  readonly detached: Readonly<Record<string, DetachedRegion>>;
  readonly unreplicatedTails: readonly UnreplicatedTail[];
}

const FORMAT_VERSION = 1;

/** Reads the persisted roles; undefined when the global database has never started with this file. */
export async function loadRoleState(file: string): Promise<RoleState | undefined> {
  const text = await readFileIfPresent(file);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RoleStateError(`the role state file ${file} is not valid JSON; refusing to guess which region writes`, {
      cause: error,
    });
  }
  const state = parsed as Partial<RoleState> & { version?: unknown };
  if (state.version !== FORMAT_VERSION || typeof state.writer !== 'string' || typeof state.generation !== 'number') {
    throw new RoleStateError(`the role state file ${file} has an unknown format (expected version ${FORMAT_VERSION})`);
  }
  return {
    writer: state.writer,
    generation: state.generation,
    detached: state.detached ?? {},
    unreplicatedTails: state.unreplicatedTails ?? [],
  };
}

/** Replaces the file atomically, so a crash leaves either the old roles or the new ones, never half of each. */
export async function saveRoleState(file: string, state: RoleState): Promise<void> {
  await writeFileDurably(file, `${JSON.stringify({ version: FORMAT_VERSION, ...state }, null, 2)}\n`);
}
