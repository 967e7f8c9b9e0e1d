import { Sparkline } from '../../components/Sparkline.tsx';
import { Status, toneOf } from '../../components/Status.tsx';
import { DASH, formatCount, formatMs } from '../../lib/format.ts';
import { IN_METRICS, OUT_METRICS, firstPresent, mappingSource, type StageView } from '../../lib/pipeline.ts';

const SHOWN = new Set<string>([...IN_METRICS, ...OUT_METRICS, 'RecordsFailed', 'Nacks']);
const STAGE_LABEL: Record<string, string> = {
  'inbound-gateway': 'Inbound gateway',
  ingestion: 'Ingestion',
  matching: 'Matching',
  egress: 'Egress',
  'outbound-gateway': 'Outbound gateway',
};

/** The counts' names as the card shows them (the metric's full name is its tooltip). */
const LABEL: Record<string, string> = { MessagesReceived: 'received', MessagesRecorded: 'recorded', RecordsProcessed: 'processed', RecordsForwarded: 'forwarded' };

/** Iterator ages past these, or this many messages waiting, are worth a look. */
const AGE_WARN_MS = 5_000;
const AGE_BAD_MS = 60_000;
const DEPTH_WARN = 1_000;

function Backlog({ view }: { readonly view: StageView }) {
  const { mappings, iteratorAgeMs, queueDepth } = view.backlog;
  if (mappings.length === 0) return <div className="kv"><span>backlog</span><span>no mapping reported</span></div>;
  const detail = mappings
    .map((mapping) => `${mappingSource(mapping.mappingId)}: ${mapping.state}${mapping.queueDepth === undefined ? '' : `, ${mapping.queueDepth} waiting`}${mapping.iteratorAgeMs === undefined ? '' : `, iterator age ${formatMs(mapping.iteratorAgeMs)}`}`)
    .join('\n');
  const notEnabled = [...new Set(mappings.map((mapping) => mapping.state).filter((state) => state !== 'Enabled'))];
  return (
    <>
      {iteratorAgeMs !== null && (
        <div className="kv" title={detail}>
          <span>iterator age</span>
          <Status tone={iteratorAgeMs >= AGE_BAD_MS ? 'bad' : iteratorAgeMs >= AGE_WARN_MS ? 'warn' : 'ok'}>{formatMs(iteratorAgeMs)}</Status>
        </div>
      )}
      {queueDepth !== null && (
        <div className="kv" title={detail}>
          <span>queue depth</span>
          <Status tone={queueDepth >= DEPTH_WARN ? 'warn' : 'ok'}>{formatCount(queueDepth)}</Status>
        </div>
      )}
      {iteratorAgeMs === null && queueDepth === null && <div className="kv" title={detail}><span>backlog</span><span>{DASH}</span></div>}
      {notEnabled.length > 0 && (
        <div className="kv" title={detail}>
          <span>mapping</span>
          <Status tone={toneOf(notEnabled[0])}>{notEnabled.join(', ')}</Status>
        </div>
      )}
    </>
  );
}

/** One pipeline stage in one region: its counts since the controller started, backlog and throughput. */
export function StageCard({ view, region }: { readonly view: StageView; readonly region: string }) {
  const incoming = firstPresent(view.totals, IN_METRICS);
  const outgoing = firstPresent(view.totals, OUT_METRICS);
  const failed = view.totals.RecordsFailed;
  const nacks = view.totals.Nacks;
  const others = Object.entries(view.totals).filter(([name]) => !SHOWN.has(name));
  const last = view.throughput?.[view.throughput.length - 1];
  return (
    <section className="stage" aria-label={`${view.service} in ${region}`}>
      <h4>{STAGE_LABEL[view.stage] ?? view.stage}</h4>
      <div className="muted mono">{view.service}</div>
      <div className="kv" title={incoming?.name}><span>{incoming ? LABEL[incoming.name] : 'in'}</span><span className="num">{incoming ? formatCount(incoming.value) : DASH}</span></div>
      <div className="kv" title={outgoing?.name}><span>{outgoing ? LABEL[outgoing.name] : 'out'}</span><span className="num">{outgoing ? formatCount(outgoing.value) : DASH}</span></div>
      {failed !== undefined && (
        <div className="kv"><span>failed</span>{failed > 0 ? <Status tone="bad">{formatCount(failed)}</Status> : <span className="num">0</span>}</div>
      )}
      {nacks !== undefined && <div className="kv"><span>NACKs</span><span className="num">{formatCount(nacks)}</span></div>}
      {others.map(([name, value]) => (
        <div className="kv" key={name}><span>{name}</span><span className="num">{formatCount(value)}</span></div>
      ))}
      <Backlog view={view} />
      {view.throughput ? (
        <div className="spark">
          <Sparkline values={view.throughput} label={`${view.service} ${view.throughputMetric} per second in ${region}`} />
          <span className="num">{formatCount(last ?? 0)}/s</span>
        </div>
      ) : (
        <div className="muted">no throughput series</div>
      )}
    </section>
  );
}
