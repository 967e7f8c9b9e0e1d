import { describe, expect, it } from 'vitest';
import type { StateMachineView } from '../../../shared/dashboard/contract.ts';
import disasterRecovery from '../../../workflows/disaster-recovery.asl.json';
import reconciliation from '../../../workflows/reconciliation.asl.json';
import rotation from '../../../workflows/rotation.asl.json';
import { layerAsl, parseAsl } from './asl.ts';
import { describeChange, parseControl } from './controls.ts';
import { appOutcomes } from './outcomes.ts';
import { appBacklogValues, appThroughput, stageBacklog } from './pipeline.ts';
import { buildInput, defaultValue, fieldsFromComment, inputFields } from './runbooks.ts';

// Run with `npx vitest run --root dashboard` (the root suite's projects cover tests/ only).

const machine = (name: string, definition: unknown): StateMachineView => ({ name, app: 'trade-matching', definition, available: true });

describe('ASL graph', () => {
  it.each([
    ['rotation', rotation],
    ['disaster-recovery', disasterRecovery],
    ['reconciliation', reconciliation],
  ])('lays out every state of %s, StartAt on top, forward edges downward', (_name, definition) => {
    const graph = parseAsl(definition)!;
    const { placed } = layerAsl(graph);
    expect(placed).toHaveLength(Object.keys(definition.States).length);
    const layer = new Map(placed.map((state) => [state.name, state.layer]));
    expect(layer.get(graph.startAt)).toBe(0);
    for (const edge of graph.edges.filter((candidate) => !candidate.back)) expect(layer.get(edge.to)!).toBeGreaterThan(layer.get(edge.from)!);
    const cells = new Set(placed.map((state) => `${state.layer}/${state.column}`));
    expect(cells.size).toBe(placed.length);
  });

  it('marks loops as back edges and keeps Catch and Choice edges', () => {
    const graph = parseAsl(rotation)!;
    expect(graph.edges).toContainEqual({ from: 'CountDrainCheck', to: 'DrainPipeline', kind: 'next', back: true });
    expect(graph.edges).toContainEqual({ from: 'DrainQueues', to: 'RollBackRouting', kind: 'catch', back: false });
    expect(graph.edges).toContainEqual({ from: 'PipelineDrained', to: 'WaitForDrain', kind: 'default', back: false });
  });

  it('refuses what is not a definition', () => {
    expect(parseAsl(null)).toBeNull();
    expect(parseAsl({ States: {} })).toBeNull();
  });
});

describe('runbook input', () => {
  it('reads the fields from the Comment, hints included', () => {
    expect(fieldsFromComment(rotation.Comment)?.map((field) => field.name)).toEqual(['app', 'sourceRegion', 'targetRegion', 'maxPasses', 'propagationSeconds']);
    expect(fieldsFromComment(reconciliation.Comment)?.find((field) => field.name === 'until')).toEqual({ name: 'until', hint: 'ISO', kind: 'text' });
  });

  it("falls back to the first state's parameters when the Comment only says 'as the rotation's'", () => {
    expect(fieldsFromComment(disasterRecovery.Comment)).toBeNull();
    expect(inputFields(machine('tm-disaster-recovery', disasterRecovery))?.map((field) => field.name)).toEqual(['app', 'sourceRegion', 'targetRegion', 'maxPasses', 'propagationSeconds']);
  });

  it('defaults to moving from the active region to the other, and builds numbers', () => {
    const fields = inputFields(machine('tm-rotation', rotation))!;
    const context = { app: 'trade-matching' as const, activeRegion: 'us-west-2', regions: ['us-east-1', 'us-west-2'], now: new Date(0) };
    const values = Object.fromEntries(fields.map((field) => [field.name, defaultValue(field, context)]));
    expect(values).toEqual({ app: 'trade-matching', sourceRegion: 'us-west-2', targetRegion: 'us-east-1', maxPasses: '5', propagationSeconds: '3' });
    expect(buildInput(fields, values)).toEqual({ input: { app: 'trade-matching', sourceRegion: 'us-west-2', targetRegion: 'us-east-1', maxPasses: 5, propagationSeconds: 3 } });
    expect(buildInput(fields, { ...values, targetRegion: 'us-west-2' })).toEqual({ error: 'sourceRegion and targetRegion must differ' });
    expect(buildInput(fields, { ...values, maxPasses: 'x' })).toEqual({ error: 'maxPasses must be a number ≥ 0' });
  });
});

describe('routing controls', () => {
  it('splits names into app, kind and region, and says what a change does', () => {
    const dns = parseControl({ name: 'trade-matching-dns-us-east-1', state: 'On' });
    expect(dns).toMatchObject({ app: 'trade-matching', kind: 'dns', region: 'us-east-1' });
    expect(describeChange(dns, 'Off')).toBe('clients of trade matching stop reaching us-east-1');
    expect(parseControl({ name: 'trade-matching-generator', state: 'On' })).toMatchObject({ app: 'trade-matching', kind: 'generator', region: null });
    expect(parseControl({ name: 'settlement-app-us-west-2', state: 'Off' })).toMatchObject({ app: 'settlement', kind: 'app', region: 'us-west-2' });
  });
});

describe('pipeline', () => {
  it("maps event-source mappings to stages by the function after '--'", () => {
    const backlog = stageBacklog(
      [
        { mappingId: 'tm.trades--tm-inbound-gateway', state: 'Enabled', queueDepth: 4 },
        { mappingId: 'tm.settlements--tm-inbound-gateway', state: 'Enabled', queueDepth: 2 },
        { mappingId: 'tm-ingestion--tm-ingestion', state: 'Enabled', iteratorAgeMs: 900 },
      ],
      'tm-inbound-gateway',
    );
    expect(backlog).toMatchObject({ queueDepth: 6, iteratorAgeMs: null });
    expect(backlog.mappings).toHaveLength(2);
  });

  it('sums RecordsProcessed over the stages, aligned on the latest second', () => {
    const series = { 'us-east-1': { 'tm-ingestion': { RecordsProcessed: [1, 2, 3] }, 'tm-matching': { RecordsProcessed: [10, 20] }, 'tm-inbound-gateway': { MessagesRecorded: [5, 5, 5] } } };
    expect(appThroughput('trade-matching', 'us-east-1', series)).toEqual([1, 12, 23]);
    expect(appThroughput('settlement', 'us-east-1', series)).toBeNull();
  });
});

describe('trades by status', () => {
  it('derives current statuses from the committed outcome counts, summed over regions', () => {
    // Prepare: in us-east-1, 3 legs stored waiting, one pair matched and settled, one pair mismatched; after a
    // rotation, one more leg waiting in us-west-2. Settlement: 2 pairs settled, 1 waiting, 1 ledger set each.
    const metrics = {
      'us-east-1': {
        'tm-matching': { 'Events.trade.unmatched': 3, 'Events.trade.matched': 2, 'Events.trade.mismatched': 2, 'Events.trade.settled': 2 },
        'sm-matching': { 'Events.settlement.unmatched': 3, 'Events.settlement.settled': 4, LedgerPostingSets: 2, LedgerPostingSetsUnbalanced: 0 },
      },
      'us-west-2': { 'tm-matching': { 'Events.trade.unmatched': 1 } },
    };

    // Act
    const tm = appOutcomes('trade-matching', metrics);
    const sm = appOutcomes('settlement', metrics);

    // Assess: 4 waiting − 2 paired out = 2 UNMATCHED; MATCHED legs all settled.
    expect(tm.statuses).toEqual({ UNMATCHED: 2, MATCHED: 0, MISMATCHED: 2, SETTLED: 2 });
    expect(tm.ledger).toBeNull();
    expect(sm.statuses).toEqual({ UNMATCHED: 1, MISMATCHED: 0, SETTLED: 4 });
    expect(sm.ledger).toEqual({ postingSets: 2, unbalancedSets: 0 });
    expect(appOutcomes('trade-matching', {}).statuses).toBeNull();
  });
});

describe('stream backlog per app and region', () => {
  it('takes the largest iterator age over the app’s own stages, null where the region reports none', () => {
    // Prepare
    const region = (name: string, mappings: { mappingId: string; state: string; iteratorAgeMs?: number; queueDepth?: number }[]) => ({ region: name, state: 'up', rssMB: 1, uptimeMs: 1, activeFor: [], mappings });
    const regions = [
      region('us-east-1', [
        { mappingId: 'tm-ingestion--tm-ingestion', state: 'Enabled', iteratorAgeMs: 120 },
        { mappingId: 'tm-matching--tm-matching', state: 'Enabled', iteratorAgeMs: 900 },
        { mappingId: 'sm-matching--sm-matching', state: 'Enabled', iteratorAgeMs: 5_000 },
        { mappingId: 'tm.trades--tm-inbound-gateway', state: 'Enabled', queueDepth: 40 },
      ]),
      region('us-west-2', []),
    ];

    // Act
    const values = appBacklogValues('trade-matching', regions);

    // Assess: settlement's 5 s and the queue depth are not trade matching's stream backlog.
    expect(values).toEqual({ 'us-east-1': 900, 'us-west-2': null });
  });
});
