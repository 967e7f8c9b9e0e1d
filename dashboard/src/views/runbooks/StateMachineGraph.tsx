import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { layerAsl, parseAsl, type AslEdge, type PlacedState } from '../../lib/asl.ts';
import type { StateVisit } from '../../lib/execution.ts';
import { formatMs } from '../../lib/format.ts';

const W = 200;
const H = 24;
const GAP_X = 60;
const GAP_Y = 16;
const MARGIN = { left: 52, right: 56, top: 8, bottom: 8 };

interface GraphProps {
  readonly definition: unknown;
  readonly visits: ReadonlyMap<string, StateVisit>;
  /** The state to highlight (running: where it is; ended: where it ended). */
  readonly current: string | null;
}

const position = (state: PlacedState) => ({ x: MARGIN.left + state.column * (W + GAP_X), y: MARGIN.top + state.layer * (H + GAP_Y) });

/** Edges to one state share a vertical "bus" in the gutter beside their source, at an offset of their own. */
function busOffset(target: string): number {
  let hash = 0;
  for (const char of target) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return 8 + (hash % 6) * 8;
}

function edgePath(edge: AslEdge, from: PlacedState, to: PlacedState): string {
  const s = position(from);
  const t = position(to);
  const sMid = s.y + H / 2;
  const tMid = t.y + H / 2;
  if (!edge.back && to.layer === from.layer + 1) {
    if (from.column === to.column) return `M${s.x + W / 2},${s.y + H} V${t.y}`;
    return `M${s.x + W / 2},${s.y + H} C${s.x + W / 2},${s.y + H + GAP_Y} ${t.x + W / 2},${t.y - GAP_Y} ${t.x + W / 2},${t.y}`;
  }
  const offset = busOffset(edge.to);
  if (to.column > from.column) {
    // Down (or up) the gutter right of the source, into the target's left side.
    const gutter = s.x + W + offset;
    return `M${s.x + W},${sMid} H${gutter} V${tMid} H${t.x}`;
  }
  if (to.column < from.column) {
    const gutter = s.x - offset;
    return `M${s.x},${sMid} H${gutter} V${tMid} H${t.x + W}`;
  }
  // Same column: loops back up on the right, jumps down on the left, clear of the states between.
  return edge.back ? `M${s.x + W},${sMid} H${s.x + W + offset} V${tMid} H${t.x + W}` : `M${s.x},${sMid} H${s.x - offset} V${tMid} H${t.x}`;
}

/** The state machine, top to bottom from StartAt, with the execution's progress painted on its states. */
export function StateMachineGraph({ definition, visits, current }: GraphProps) {
  const markerId = useId().replace(/:/g, '');
  const [showCatch, setShowCatch] = useState(true);
  const scrollRef = useRef<HTMLDivElement>(null);
  const layout = useMemo(() => {
    const graph = parseAsl(definition);
    return graph ? { graph, ...layerAsl(graph) } : null;
  }, [definition]);
  useEffect(() => {
    // Keep the current state in view by scrolling the graph's own box, never the page.
    const box = scrollRef.current;
    const state = layout?.placed.find((candidate) => candidate.name === current);
    if (!box || !state) return;
    const { y } = position(state);
    if (y < box.scrollTop || y + H > box.scrollTop + box.clientHeight) box.scrollTop = Math.max(0, y - box.clientHeight / 3);
  }, [current, layout]);
  if (!layout) return <p className="muted">This state machine's definition could not be read.</p>;

  const byName = new Map(layout.placed.map((state) => [state.name, state]));
  const width = MARGIN.left + layout.columns * (W + GAP_X) - GAP_X + MARGIN.right;
  const height = MARGIN.top + layout.layers * (H + GAP_Y) - GAP_Y + MARGIN.bottom;
  const edges = layout.graph.edges.filter((edge) => showCatch || edge.kind !== 'catch');
  return (
    <div className="graph">
      <div className="graph-legend">
        <span className="legend-item"><span className="swatch edge-next" aria-hidden="true" />Next</span>
        <span className="legend-item"><span className="swatch edge-choice" aria-hidden="true" />Choice / Default</span>
        <span className="legend-item"><span className="swatch edge-catch" aria-hidden="true" />Catch</span>
        <label><input type="checkbox" checked={showCatch} onChange={(event) => setShowCatch(event.target.checked)} /> show Catch edges</label>
      </div>
      <div className="graph-scroll" ref={scrollRef}>
        <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`State machine graph, ${layout.placed.length} states${current ? `, at ${current}` : ''}`}>
          <defs>
            {(['next', 'choice', 'catch'] as const).map((kind) => (
              <marker key={kind} id={`${markerId}-${kind}`} viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                <path d="M0,0 L8,4 L0,8 z" className={`arrowhead edge-${kind}`} />
              </marker>
            ))}
          </defs>
          {edges.map((edge, index) => {
            const from = byName.get(edge.from);
            const to = byName.get(edge.to);
            if (!from || !to) return null;
            const kind = edge.kind === 'default' ? 'choice' : edge.kind;
            return <path key={index} d={edgePath(edge, from, to)} className={`edge edge-${kind}${edge.kind === 'default' ? ' edge-default' : ''}`} markerEnd={`url(#${markerId}-${kind})`} />;
          })}
          {layout.placed.map((state) => {
            const { x, y } = position(state);
            const visit = visits.get(state.name);
            const progress = visit ? (state.type === 'Fail' ? 'failed' : visit.progress) : 'unvisited';
            const isCurrent = state.name === current;
            const label = `${state.name} (${state.type})${visit ? `: ${visit.visits}× entered, ${formatMs(visit.totalMs)}, ${progress}` : ': not entered'}${state.comment ? `\n${state.comment}` : ''}`;
            return (
              <g key={state.name} className={`node node-${progress}${isCurrent ? ' node-now' : ''} node-type-${state.type.toLowerCase()}`}>
                <title>{label}</title>
                <rect x={x} y={y} width={W} height={H} rx={state.type === 'Choice' ? 12 : 3} />
                <text x={x + 6} y={y + H / 2 + 4} className="node-name">{state.name}</text>
                <text x={x + W - 6} y={y + H / 2 + 4} className="node-type" textAnchor="end">
                  {visit && visit.visits > 1 ? `${visit.visits}× ` : ''}{state.type}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}
