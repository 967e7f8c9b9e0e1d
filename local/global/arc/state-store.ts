import { readFileIfPresent, writeFileDurably } from '#local/support/state-files.ts';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import type { RoutingControlDefinition } from './cluster-configuration.ts';
import { ArcStateFileError } from './errors.ts';

/**
 * The cluster's durable state: every routing control's state, in one JSON file under the data directory, replaced
 * atomically (write a temporary file, fsync, rename) so a killed emulator never leaves half a state behind.
 * Keyed by control name so an operator can read it; controls the file lacks start in their configured state.
 */

const STATE_FILE = 'routing-control-states.json';

interface StateFile {
  readonly version: 1;
  readonly updatedAt: string;
  readonly controls: Record<string, { readonly arn: string; readonly state: RoutingControlState }>;
}

export class RoutingControlStateStore {
  private states: Map<string, RoutingControlState>;

  private constructor(
    private readonly file: string,
    private readonly definitions: readonly RoutingControlDefinition[],
    states: Map<string, RoutingControlState>,
  ) {
    this.states = states;
  }

  static async open(dataDir: string, definitions: readonly RoutingControlDefinition[]): Promise<RoutingControlStateStore> {
    await mkdir(dataDir, { recursive: true });
    const file = path.join(dataDir, STATE_FILE);
    const saved = await readStateFile(file);
    const states = new Map(
      definitions.map((control) => [control.arn, saved?.controls[control.name]?.state ?? control.initialState] as const),
    );
    const store = new RoutingControlStateStore(file, definitions, states);
    await store.persist(states);
    return store;
  }

  /** States by routing-control ARN, as of the last committed update. */
  current(): ReadonlyMap<string, RoutingControlState> {
    return this.states;
  }

  /** Makes `next` the state, durably; callers serialise commits. */
  async commit(next: Map<string, RoutingControlState>): Promise<void> {
    await this.persist(next);
    this.states = next;
  }

  private async persist(states: ReadonlyMap<string, RoutingControlState>): Promise<void> {
    const content: StateFile = {
      version: 1,
      updatedAt: new Date().toISOString(),
      controls: Object.fromEntries(this.definitions.map((control) => [control.name, { arn: control.arn, state: states.get(control.arn) ?? control.initialState }])),
    };
    await writeFileDurably(this.file, `${JSON.stringify(content, null, 2)}\n`);
  }
}

async function readStateFile(file: string): Promise<StateFile | undefined> {
  const text = await readFileIfPresent(file);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ArcStateFileError(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const controls = (parsed as Partial<StateFile> | null)?.controls;
  if (typeof controls !== 'object' || controls === null) throw new ArcStateFileError(`${file} has no "controls" object`);
  for (const [name, entry] of Object.entries(controls)) {
    if (entry?.state !== 'On' && entry?.state !== 'Off') throw new ArcStateFileError(`${file}: control ${name} has state ${String(entry?.state)}`);
  }
  return parsed as StateFile;
}
