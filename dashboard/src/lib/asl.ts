/**
 * An Amazon States Language definition as a graph (states and their Next/Choice/Default/Catch edges) and a
 * simple layered layout for it: a depth-first walk from StartAt marks the edges that loop back; the rest form a
 * DAG whose longest-path depth is a state's row, and within a row states keep the walk's order (so the Next chain
 * stays in the first column). Top-level states only: none of Rotor's workflows has Parallel or Map branches.
 */

export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface AslState {
  readonly name: string;
  readonly type: string;
  readonly comment: string | undefined;
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface AslEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  /** Points back to a state already on the walk's path (a loop). */
  readonly back: boolean;
}

export interface AslGraph {
  readonly startAt: string;
  readonly comment: string | undefined;
  readonly states: readonly AslState[];
  readonly edges: readonly AslEdge[];
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function outgoing(raw: Record<string, unknown>): { to: string; kind: EdgeKind }[] {
  const edges: { to: string; kind: EdgeKind }[] = [];
  const next = asString(raw.Next);
  if (next) edges.push({ to: next, kind: 'next' });
  for (const choice of Array.isArray(raw.Choices) ? raw.Choices : []) {
    const to = isRecord(choice) ? asString(choice.Next) : undefined;
    if (to) edges.push({ to, kind: 'choice' });
  }
  const fallback = asString(raw.Default);
  if (fallback) edges.push({ to: fallback, kind: 'default' });
  for (const handler of Array.isArray(raw.Catch) ? raw.Catch : []) {
    const to = isRecord(handler) ? asString(handler.Next) : undefined;
    if (to) edges.push({ to, kind: 'catch' });
  }
  return edges;
}

export function parseAsl(definition: unknown): AslGraph | null {
  const parsed = typeof definition === 'string' ? safeJson(definition) : definition;
  if (!isRecord(parsed) || !isRecord(parsed.States)) return null;
  const startAt = asString(parsed.StartAt);
  if (!startAt) return null;
  const states: AslState[] = Object.entries(parsed.States).flatMap(([name, raw]) =>
    isRecord(raw) ? [{ name, type: asString(raw.Type) ?? '?', comment: asString(raw.Comment), raw }] : [],
  );
  const known = new Set(states.map((state) => state.name));
  const byName = new Map(states.map((state) => [state.name, state]));
  const order: string[] = [];
  const onPath = new Set<string>();
  const seen = new Set<string>();
  const edges: AslEdge[] = [];
  const walk = (name: string) => {
    seen.add(name);
    onPath.add(name);
    order.push(name);
    for (const edge of outgoing(byName.get(name)!.raw)) {
      if (!known.has(edge.to)) continue;
      edges.push({ from: name, to: edge.to, kind: edge.kind, back: onPath.has(edge.to) });
      if (!seen.has(edge.to)) walk(edge.to);
    }
    onPath.delete(name);
  };
  if (known.has(startAt)) walk(startAt);
  for (const state of states) if (!seen.has(state.name)) walk(state.name);
  const rank = new Map(order.map((name, index) => [name, index]));
  states.sort((a, b) => rank.get(a.name)! - rank.get(b.name)!);
  return { startAt, comment: asString(parsed.Comment), states, edges };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export interface PlacedState extends AslState {
  readonly layer: number;
  readonly column: number;
}

/** Rows and columns for every state; `states` of the graph must be in walk order (parseAsl's). */
export function layerAsl(graph: AslGraph): { placed: PlacedState[]; layers: number; columns: number } {
  const forward = graph.edges.filter((edge) => !edge.back);
  const layer = new Map<string, number>(graph.states.map((state) => [state.name, 0]));
  // Longest path over the forward edges; relax until nothing changes (a DAG settles within |V| rounds).
  for (let round = 0; round < graph.states.length; round += 1) {
    let changed = false;
    for (const edge of forward) {
      const candidate = layer.get(edge.from)! + 1;
      if (candidate > layer.get(edge.to)!) {
        layer.set(edge.to, candidate);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const filled = new Map<number, number>();
  const placed = graph.states.map((state) => {
    const row = layer.get(state.name)!;
    const column = filled.get(row) ?? 0;
    filled.set(row, column + 1);
    return { ...state, layer: row, column };
  });
  return {
    placed,
    layers: Math.max(0, ...placed.map((state) => state.layer)) + 1,
    columns: Math.max(1, ...filled.values()),
  };
}
