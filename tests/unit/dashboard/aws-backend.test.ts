import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { awsDashboardBackend, type GeneratorLauncher, type RegionObservation, type RegionObserver, type WorkflowRuns } from '#shared/dashboard/aws-backend.ts';
import { EVENTS_RETRY_MS, functionUrlApi } from '#shared/dashboard/function-url.ts';
import { SafetyRuleViolationError, type RoutingControls, type RoutingControlState, type RoutingControlStatus } from '#shared/ports/routing-controls.ts';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { statesOf } from '#shared/adapters/stepfunctions/step-functions-runs.ts';

// The dashboard on AWS, over its ports: what a snapshot says from CloudWatch/Lambda observations, ARC and Step
// Functions, and the function URL's rules (token, origin, body size, one-event SSE). The AWS adapters themselves
// are exercised only by a deployment (docs/deploy.md).

const EAST = 'us-east-1';
const WEST = 'us-west-2';

/** The cluster's controls in memory, with its "at least one dns On" rule. */
class ClusterControls implements RoutingControls {
  readonly states = new Map<string, RoutingControlState>();
  constructor(initial: Record<string, RoutingControlState>) {
    for (const [name, state] of Object.entries(initial)) this.states.set(name, state);
  }
  async getState(name: string) {
    return this.states.get(name)!;
  }
  async list(): Promise<RoutingControlStatus[]> {
    return [...this.states].map(([name, state]) => ({ name, state, arn: `arn:control/${name}`, controlPanelName: 'rotor' }));
  }
  async update(name: string, state: RoutingControlState) {
    await this.updateMany([{ name, state }]);
  }
  async updateMany(changes: readonly { name: string; state: RoutingControlState }[]) {
    const next = new Map(this.states);
    for (const change of changes) next.set(change.name, change.state);
    if (![EAST, WEST].some((region) => next.get(`trade-matching-dns-${region}`) === 'On')) throw new SafetyRuleViolationError('trade-matching-dns-at-least-one-on');
    for (const [name, state] of next) this.states.set(name, state);
  }
}

const observation = (overrides: Partial<RegionObservation> = {}): RegionObservation => ({
  totals: { 'tm-ingestion': { RecordsProcessed: 120 } },
  series: { 'tm-ingestion': { RecordsProcessed: [1, 2] } },
  mappings: [{ mappingId: 'tm-ingestion--tm-ingestion', state: 'Enabled', iteratorAgeMs: 40 }],
  dynamodbLagMs: 800,
  databases: [{ name: 'tm-db', writerRegion: null, lagMs: 30 }],
  ...overrides,
});

function setUp(options: { westDown?: boolean } = {}) {
  const routing = new ClusterControls({
    'trade-matching-dns-us-east-1': 'On',
    'trade-matching-dns-us-west-2': 'Off',
    'settlement-dns-us-east-1': 'Off',
    'settlement-dns-us-west-2': 'On',
    'trade-matching-generator': 'Off',
  });
  const observer: RegionObserver = {
    observe: async (region) => {
      if (region === WEST && options.westDown) throw new Error('ECONNREFUSED');
      return observation(region === WEST ? { dynamodbLagMs: 1_500, databases: [{ name: 'tm-db', writerRegion: null, lagMs: 90 }] } : {});
    },
  };
  const started: Array<{ region: string; stateMachine: string; input: Record<string, unknown> }> = [];
  const workflows: WorkflowRuns = {
    stateMachines: async () => [{ name: 'tm-rotation', app: 'trade-matching', definition: { StartAt: 'A', States: {} }, available: true }],
    recent: async () => [{ name: 'run-1', stateMachine: 'tm-rotation', status: 'SUCCEEDED', region: WEST, startDate: '2026-12-07T20:00:00.000Z' }],
    describe: async (name) => ({ name, stateMachine: 'tm-rotation', status: 'RUNNING', region: WEST, startDate: '2026-12-07T20:00:00.000Z', input: {}, states: [] }),
    start: async (region, stateMachine, input) => {
      started.push({ region, stateMachine, input });
      return 'dashboard-1';
    },
  };
  const launched: Array<{ region: string; rate: number }> = [];
  const generator: GeneratorLauncher = { launch: async (region, request) => void launched.push({ region, rate: request.rate }) };
  const backend = awsDashboardBackend({
    regions: [EAST, WEST],
    routing,
    clusterEndpoints: [{ url: 'https://host-a.example', region: EAST }],
    observer,
    workflows,
    generator,
    now: () => new Date('2026-12-07T21:00:00.000Z'),
  });
  return { backend, routing, started, launched };
}

describe('the dashboard backend on AWS', () => {
  it('builds a snapshot: active regions from the dns controls, metrics and mappings per region, the worst replication lag', async () => {
    // Prepare
    const { backend } = setUp();

    // Act
    const snapshot = await backend.snapshot();

    // Assess
    expect(snapshot.apps).toEqual([{ app: 'trade-matching', activeRegion: EAST }, { app: 'settlement', activeRegion: WEST }]);
    expect(snapshot.regions.map((region) => [region.region, region.state, region.activeFor])).toEqual([[EAST, 'up', ['trade-matching']], [WEST, 'up', ['settlement']]]);
    expect(snapshot.metrics[EAST]?.['tm-ingestion']?.RecordsProcessed).toBe(120);
    expect(snapshot.replication.lagMs).toBe(1_500);
    expect(snapshot.replication.databases).toEqual([{ name: 'tm-db', writerRegion: null, lagMs: 90 }]);
    expect(snapshot.generator).toMatchObject({ state: 'stopped', region: EAST });
    expect(snapshot.executions).toHaveLength(1);
    expect(snapshot.arcEndpoints).toEqual([{ url: 'https://host-a.example', region: EAST, running: true }]);
  });

  it('shows a region whose APIs do not answer as unreachable, and keeps the rest', async () => {
    // Prepare
    const { backend } = setUp({ westDown: true });

    // Act
    const snapshot = await backend.snapshot();

    // Assess
    expect(snapshot.regions.find((region) => region.region === WEST)).toMatchObject({ state: 'unreachable', mappings: [] });
    expect(snapshot.metrics[WEST]).toBeUndefined();
    expect(snapshot.replication.lagMs).toBe(800);
  });

  it('starts the generator in trade matching’s active region with the control On, and stops it with the control', async () => {
    // Prepare
    const { backend, routing, launched } = setUp();

    // Act
    const startedView = await backend.generator({ action: 'start', rate: 12 });
    const stoppedView = await backend.generator({ action: 'stop' });

    // Assess
    expect(launched).toEqual([{ region: EAST, rate: 12 }]);
    expect(startedView).toMatchObject({ state: 'running', rate: 12, region: EAST });
    expect(stoppedView.state).toBe('stopped');
    expect(routing.states.get('trade-matching-generator')).toBe('Off');
  });

  it('runs a workflow where the app is going, and refuses region actions, which exist on the twin only', async () => {
    // Prepare
    const { backend, started } = setUp();

    // Act
    const run = await backend.startExecution({ stateMachine: 'tm-rotation', input: { app: 'trade-matching', sourceRegion: EAST, targetRegion: WEST } });
    const refused = backend.regionAction(EAST, 'kill');
    const unknown = backend.regionAction('eu-west-9', 'kill');

    // Assess
    expect(run).toEqual({ executionName: 'dashboard-1' });
    expect(started).toEqual([{ region: WEST, stateMachine: 'tm-rotation', input: { app: 'trade-matching', sourceRegion: EAST, targetRegion: WEST } }]);
    await expect(refused).rejects.toMatchObject({ name: 'RegionActionUnsupportedError' });
    await expect(unknown).rejects.toMatchObject({ name: 'RegionNotFoundError' });
  });
});

/** A function URL request as Lambda delivers it (payload format 2.0). */
function urlEvent(method: string, path: string, options: { headers?: Record<string, string>; query?: string; body?: string } = {}): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: options.query ?? '',
    headers: { host: 'abc123.lambda-url.us-east-1.on.aws', 'x-forwarded-proto': 'https', ...options.headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'Mozilla/5.0' },
      requestId: 'c0ffee',
      routeKey: '$default',
      stage: '$default',
      time: '07/Dec/2026:21:00:00 +0000',
      timeEpoch: 1_796_677_200_000,
    },
    isBase64Encoded: false,
    ...(options.body === undefined ? {} : { body: options.body }),
  };
}

describe('the dashboard API as a function URL', () => {
  const TOKEN = 'f'.repeat(64);
  const ORIGIN = 'https://d111111abcdef8.cloudfront.net';
  const api = () => functionUrlApi({ backend: setUp().backend, token: async () => TOKEN, allowedOrigin: ORIGIN });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('answers 401 without the token, 403 to another origin, and the snapshot with both right', async () => {
    // Prepare
    const handler = api();

    // Act
    const anonymous = await handler(urlEvent('GET', '/api/snapshot'));
    const foreign = await handler(urlEvent('GET', '/api/snapshot', { headers: { ...bearer, origin: 'https://evil.example' } }));
    const allowed = await handler(urlEvent('GET', '/api/snapshot', { headers: { ...bearer, origin: ORIGIN } }));

    // Assess
    expect(anonymous.statusCode).toBe(401);
    expect(foreign.statusCode).toBe(403);
    expect(allowed.statusCode).toBe(200);
    expect(JSON.parse(allowed.body!)).toMatchObject({ apps: [{ app: 'trade-matching', activeRegion: EAST }, { app: 'settlement', activeRegion: WEST }] });
    expect(allowed.headers).toMatchObject({ 'cache-control': 'no-store', 'x-frame-options': 'DENY' });
  });

  it('maps a safety rule’s refusal to 409, a bad body to 400 and a big one to 413', async () => {
    // Prepare
    const handler = api();
    const json = { ...bearer, 'content-type': 'application/json' };

    // Act
    const refused = await handler(urlEvent('POST', '/api/routing-controls/trade-matching-dns-us-east-1', { headers: json, body: '{"state":"Off"}' }));
    const invalid = await handler(urlEvent('POST', '/api/routing-controls/trade-matching-dns-us-east-1', { headers: json, body: '{"state":"off"}' }));
    const big = await handler(urlEvent('POST', '/api/generator', { headers: json, body: `{"action":"stop","pad":"${'x'.repeat(70_000)}"}` }));

    // Assess
    expect(refused.statusCode).toBe(409);
    expect(JSON.parse(refused.body!)).toMatchObject({ type: 'SafetyRuleViolationError' });
    expect(invalid.statusCode).toBe(400);
    expect(big.statusCode).toBe(413);
  });

  it('answers /api/events with one snapshot event and a retry, the token in the query', async () => {
    // Prepare
    const handler = api();

    // Act
    const events = await handler(urlEvent('GET', '/api/events', { query: `token=${TOKEN}` }));

    // Assess
    expect(events.statusCode).toBe(200);
    expect(events.headers?.['content-type']).toMatch(/^text\/event-stream/);
    expect(events.body).toMatch(new RegExp(`^retry: ${EVENTS_RETRY_MS}\\nevent: snapshot\\ndata: \\{.*\\}\\n\\n$`));
  });
});

describe('Step Functions history as the graph’s states', () => {
  it('orders states by entry, with exits, a retried task and the failed last state', () => {
    // Prepare: entered A, left it; entered B, its task failed once (retried), then the execution failed in it.
    const at = (second: number) => new Date(Date.UTC(2026, 11, 7, 21, 0, second));
    const events: HistoryEvent[] = [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
      { id: 2, type: 'TaskStateEntered', timestamp: at(1), stateEnteredEventDetails: { name: 'A' } },
      { id: 3, type: 'TaskStateExited', timestamp: at(2), stateExitedEventDetails: { name: 'A' } },
      { id: 4, type: 'TaskStateEntered', timestamp: at(3), stateEnteredEventDetails: { name: 'B' } },
      { id: 5, type: 'TaskFailed', timestamp: at(4) },
      { id: 6, type: 'ExecutionFailed', timestamp: at(6) },
    ];

    // Act
    const states = statesOf(events);

    // Assess
    expect(states).toEqual([
      { name: 'A', enteredAt: at(1).toISOString(), exitedAt: at(2).toISOString(), outcome: 'succeeded' },
      { name: 'B', enteredAt: at(3).toISOString(), exitedAt: at(6).toISOString(), outcome: 'failed' },
    ]);
  });
});
