import { describe, expect, it } from 'vitest';
import type { ExecutionEvent, ExecutionRecord } from '#local/stepfunctions/execution.ts';
import type { RegionStatus } from '#local/region/region.ts';
import type { LinkMetrics } from '#local/global/dynamo-replication/replication-link.ts';
import { MetricCollector } from '#local/controller/metric-collector.ts';
import { executionView, stateMachineViews } from '#local/dashboard/executions.ts';
import { buildSnapshot, type SnapshotSource } from '#local/dashboard/snapshot.ts';

/** The snapshot is built from memory only: what each part of the controller already knows, mapped to contract.ts. */

const EAST = 'us-east-1';
const WEST = 'us-west-2';

function record(name: string, stateMachineName: string, startSecond: number, region: string): Omit<ExecutionRecord, 'events'> {
  return {
    executionArn: `arn:aws:states:${region}:000000000000:execution:${stateMachineName}:${name}`,
    name,
    stateMachineArn: `arn:aws:states:${region}:000000000000:stateMachine:${stateMachineName}`,
    stateMachineName,
    status: 'SUCCEEDED',
    startDate: new Date(Date.UTC(2026, 11, 7, 18, 0, startSecond)).toISOString(),
    stopDate: new Date(Date.UTC(2026, 11, 7, 18, 1, startSecond)).toISOString(),
    input: { app: 'trade-matching', region },
  };
}

function source(statusCalls: string[]): SnapshotSource {
  const live = { rssMB: 180, uptimeMs: 42_000, mappingMetrics: [{ mappingId: 'tm-ingestion', state: 'Enabled', maxIteratorAgeMs: 12 }], mqMappingMetrics: [{ mappingId: 'tm-inbound-gateway', state: 'Enabled', queueDepth: 3 }] };
  const link: Partial<LinkMetrics> = { from: EAST, to: WEST, state: 'running' as LinkMetrics['state'], lagMs: 300, backlog: 2, oldestPendingAgeMs: 150 };
  const collector = new MetricCollector({ now: () => 10_000 });
  collector.ingest('{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Rotor","Dimensions":[["service","region"]],"Metrics":[{"Name":"MessagesReceived","Unit":"Count"}]}]},"service":"tm-inbound-gateway","region":"us-east-1","MessagesReceived":4}', EAST);
  const runs = {
    'tm-rotation': Array.from({ length: 15 }, (_, index) => record(`rot-${index}`, 'tm-rotation', 40 - index * 2, WEST)),
    'sm-reconciliation': Array.from({ length: 15 }, (_, index) => record(`rec-${index}`, 'sm-reconciliation', 41 - index * 2, EAST)),
  };
  return {
    regions: [EAST, WEST],
    region: (name) => ({
      state: name === EAST ? 'up' : 'down',
      fetchStatus: async () => {
        statusCalls.push(name);
        return live as unknown as RegionStatus;
      },
    }),
    arc: {
      states: () => ({ 'trade-matching-dns-us-east-1': 'On', 'trade-matching-dns-us-west-2': 'Off', 'settlement-dns-us-east-1': 'On', 'settlement-dns-us-west-2': 'On', 'trade-matching-generator': 'Off' }),
      endpoints: [{ url: 'http://127.0.0.1:1', region: EAST }, { url: 'http://127.0.0.1:2', region: WEST }],
      isEndpointRunning: (index) => index === 0,
    },
    replicationLinks: () => [link as LinkMetrics],
    componentStatus: () => ({ aurora: { 'tm-db': { writer: EAST, rpoLagMs: 25 }, 'sm-db': { writer: EAST } } }),
    generatorStatus: () => ({ rate: 5, state: 'waiting', reason: 'trade-matching-generator is Off', runs: 2, legsSent: 80, region: EAST, lastError: 'x' }),
    metrics: collector,
    workflows: {
      stateMachines: () => [
        { name: 'tm-rotation', app: 'trade-matching', definition: 'workflows/rotation.asl.json', available: true },
        { name: 'sm-reconciliation', app: 'settlement', definition: 'workflows/reconciliation.asl.json', available: true },
        { name: 'tm-chaos', app: 'trade-matching', definition: 'workflows/chaos.asl.json', available: false, reason: 'not written yet' },
      ],
      list: (name) => {
        if (name === 'tm-chaos') throw new Error('unavailable machines are not listed');
        return runs[name as keyof typeof runs];
      },
    },
  };
}

describe('buildSnapshot', () => {
  it('maps regions, routing, ARC endpoints, replication, Aurora, the generator and metrics, asking only regions that are up', async () => {
    // Prepare
    const statusCalls: string[] = [];

    // Act
    const snapshot = await buildSnapshot(source(statusCalls), () => new Date('2026-12-07T18:30:00.000Z'));

    // Assess
    expect(statusCalls).toEqual([EAST]);
    expect(snapshot.at).toBe('2026-12-07T18:30:00.000Z');
    expect(snapshot.regions).toEqual([
      {
        region: EAST,
        state: 'up',
        rssMB: 180,
        uptimeMs: 42_000,
        activeFor: ['trade-matching', 'settlement'],
        mappings: [
          { mappingId: 'tm-ingestion', state: 'Enabled', iteratorAgeMs: 12 },
          { mappingId: 'tm-inbound-gateway', state: 'Enabled', queueDepth: 3 },
        ],
      },
      { region: WEST, state: 'down', rssMB: null, uptimeMs: null, activeFor: ['settlement'], mappings: [] },
    ]);
    expect(snapshot.apps).toEqual([
      { app: 'trade-matching', activeRegion: EAST },
      { app: 'settlement', activeRegion: null },
    ]);
    expect(snapshot.routingControls.map((control) => control.name)).toEqual([...snapshot.routingControls.map((control) => control.name)].sort());
    expect(snapshot.arcEndpoints).toEqual([
      { url: 'http://127.0.0.1:1', region: EAST, running: true },
      { url: 'http://127.0.0.1:2', region: WEST, running: false },
    ]);
    expect(snapshot.replication).toEqual({
      lagMs: 300,
      directions: [{ from: EAST, to: WEST, state: 'running', backlog: 2, oldestPendingAgeMs: 150 }],
      databases: [
        { name: 'tm-db', writerRegion: EAST, lagMs: 25 },
        { name: 'sm-db', writerRegion: EAST, lagMs: null },
      ],
    });
    expect(snapshot.generator).toEqual({ state: 'waiting', rate: 5, legsSent: 80, region: EAST, reason: 'trade-matching-generator is Off' });
    expect(snapshot.metrics).toEqual({ [EAST]: { 'tm-inbound-gateway': { MessagesReceived: 4 } } });
    expect(snapshot.series[EAST]!['tm-inbound-gateway']!.MessagesReceived).toHaveLength(120);
    expect(snapshot.seriesSeconds).toBe(120);
  });

  it('lists the 20 newest executions over every available state machine, newest first, with the region each ran in', async () => {
    // Act
    const { executions } = await buildSnapshot(source([]));

    // Assess
    expect(executions).toHaveLength(20);
    expect(executions.slice(0, 3).map((execution) => execution.name)).toEqual(['rec-0', 'rot-0', 'rec-1']);
    expect(executions.map((execution) => execution.startDate)).toEqual([...executions.map((execution) => execution.startDate)].sort().reverse());
    expect(executions[0]).toEqual({
      name: 'rec-0',
      stateMachine: 'sm-reconciliation',
      status: 'SUCCEEDED',
      region: EAST,
      startDate: '2026-12-07T18:00:41.000Z',
      stopDate: '2026-12-07T18:01:41.000Z',
    });
  });
});

describe('executionView', () => {
  it('lists states in the order entered, with how each ended: succeeded, retried then succeeded, failed and caught', () => {
    // Prepare
    let id = 0;
    const at = (second: number) => new Date(Date.UTC(2026, 11, 7, 18, 0, second)).toISOString();
    const event = (type: string, second: number, stateName?: string): ExecutionEvent => ({ id: ++id, type, timestamp: at(second), ...(stateName ? { stateName, stateType: 'Task' } : {}) });
    const execution = {
      ...record('rot-9', 'tm-rotation', 0, WEST),
      status: 'FAILED' as const,
      error: 'States.TaskFailed',
      cause: 'canary never settled',
      region: WEST,
      events: [
        event('ExecutionStarted', 0),
        event('StateEntered', 0, 'MoveEdge'),
        event('StateExited', 1, 'MoveEdge'),
        event('StateEntered', 1, 'DrainPipeline'),
        event('StateFailed', 2, 'DrainPipeline'),
        event('StateRetried', 3, 'DrainPipeline'),
        event('StateExited', 5, 'DrainPipeline'),
        event('StateEntered', 5, 'CheckCanary'),
        event('StateFailed', 6, 'CheckCanary'),
        event('StateCaught', 6, 'CheckCanary'),
        event('StateExited', 6, 'CheckCanary'),
        event('StateEntered', 6, 'Replay'),
        event('StateFailed', 7, 'Replay'),
        event('StateRetried', 8, 'Replay'),
      ],
    };

    // Act
    const view = executionView(execution);

    // Assess
    expect(view).toMatchObject({ name: 'rot-9', stateMachine: 'tm-rotation', status: 'FAILED', region: WEST, error: 'States.TaskFailed', cause: 'canary never settled' });
    expect(view.input).toEqual({ app: 'trade-matching', region: WEST });
    expect(view.states).toEqual([
      { name: 'MoveEdge', enteredAt: at(0), exitedAt: at(1), outcome: 'succeeded' },
      { name: 'DrainPipeline', enteredAt: at(1), exitedAt: at(5), outcome: 'retried' },
      { name: 'CheckCanary', enteredAt: at(5), exitedAt: at(6), outcome: 'failed' },
      { name: 'Replay', enteredAt: at(6), outcome: 'retried' },
    ]);
  });

  it('shows a running execution waiting out a retry backoff as retrying, not failed', () => {
    // Prepare
    const at = (second: number) => new Date(Date.UTC(2026, 11, 7, 18, 0, second)).toISOString();
    const execution = {
      ...record('rot-10', 'tm-rotation', 0, WEST),
      status: 'RUNNING' as const,
      region: WEST,
      events: [
        { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
        { id: 2, type: 'StateEntered', timestamp: at(0), stateName: 'DrainQueues', stateType: 'Task' },
        { id: 3, type: 'StateFailed', timestamp: at(1), stateName: 'DrainQueues', stateType: 'Task' },
      ] satisfies ExecutionEvent[],
    };

    // Act
    const view = executionView(execution);

    // Assess
    expect(view.states).toEqual([{ name: 'DrainQueues', enteredAt: at(0), outcome: 'retried' }]);
  });
});

describe('stateMachineViews', () => {
  it('reads the ASL of every available state machine from workflows/, and none for the others', async () => {
    // Act
    const views = await stateMachineViews([
      { name: 'tm-rotation', app: 'trade-matching', definition: 'workflows/rotation.asl.json', available: true },
      { name: 'tm-chaos', app: undefined, definition: 'workflows/chaos.asl.json', available: false, reason: 'not written yet' },
    ]);

    // Assess
    expect(views[0]).toMatchObject({ name: 'tm-rotation', app: 'trade-matching', available: true });
    expect(views[0]!.definition).toHaveProperty('StartAt');
    expect(views[0]!.definition).toHaveProperty('States');
    expect(views[1]).toEqual({ name: 'tm-chaos', app: null, definition: null, available: false });
  });
});
