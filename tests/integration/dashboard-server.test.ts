import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SafetyRuleViolationError } from '#shared/ports/routing-controls.ts';
import { waitFor } from '#tests/support/wait.ts';
import type { ChaosRequest, DashboardSnapshot, GeneratorRequest, StartExecutionRequest } from '#shared/dashboard/contract.ts';
import { latestReport } from '#local/dashboard/reports.ts';
import { RegionCommandError } from '#local/controller/errors.ts';
import { RegionNotFoundError } from '#local/dashboard/twin-backend.ts';
import { startDashboardServer, type DashboardBackend, type RunningDashboardServer } from '#local/dashboard/server.ts';

// The dashboard server on its own, with a fake backend: no twin, so every check takes milliseconds (SSE: a second).

let directory: string;
let staticDir: string;
const servers: RunningDashboardServer[] = [];

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'rotor-dashboard-'));
  staticDir = path.join(directory, 'dist');
  await mkdir(path.join(staticDir, 'assets'), { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Rotor operations</title><div id="root"></div>');
  await writeFile(path.join(staticDir, 'assets', 'index-abc123.js'), 'console.log("rotor");');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

interface Calls {
  routingControls: Array<{ name: string; state: string }>;
  generator: GeneratorRequest[];
  executions: StartExecutionRequest[];
  snapshots: number;
  regions: Array<{ region: string; action: string }>;
  chaos: Array<{ experiment: string; request: ChaosRequest }>;
}

function snapshotNumber(index: number): DashboardSnapshot {
  return {
    at: new Date(Date.UTC(2026, 11, 7, 18, 0, index)).toISOString(),
    regions: [{ region: 'us-east-1', state: 'up', rssMB: 200, uptimeMs: index * 1000, activeFor: ['trade-matching', 'settlement'], mappings: [] }],
    apps: [{ app: 'trade-matching', activeRegion: 'us-east-1' }, { app: 'settlement', activeRegion: 'us-east-1' }],
    routingControls: [{ name: 'trade-matching-dns-us-east-1', state: 'On' }],
    arcEndpoints: [],
    replication: { lagMs: 300, directions: [], databases: [] },
    generator: null,
    metrics: { 'us-east-1': { 'tm-ingestion': { RecordsProcessed: index } } },
    series: {},
    seriesSeconds: 120,
    executions: [],
  };
}

function fakeBackend(dataDir: string): { backend: DashboardBackend; calls: Calls } {
  const calls: Calls = { routingControls: [], generator: [], executions: [], snapshots: 0, regions: [], chaos: [] };
  const backend: DashboardBackend = {
    snapshot: async () => snapshotNumber(++calls.snapshots),
    setRoutingControl: async (name, state) => {
      calls.routingControls.push({ name, state });
      if (name === 'trade-matching-dns-us-east-1' && state === 'Off') {
        throw new SafetyRuleViolationError('trade-matching-dns-at-least-one-on: the change would leave no trade-matching dns control On');
      }
      return { name, state };
    },
    generator: async (request) => {
      calls.generator.push(request);
      return request.action === 'start' ? { state: 'running', rate: request.rate, legsSent: 0 } : { state: 'stopped', rate: 5, legsSent: 12 };
    },
    startExecution: async (request) => {
      calls.executions.push(request);
      return { executionName: 'run-1' };
    },
    execution: async (name) => ({ name, stateMachine: 'tm-rotation', status: 'RUNNING', region: 'us-west-2', startDate: '2026-12-07T18:00:00.000Z', input: {}, states: [] }),
    stateMachines: async () => [{ name: 'tm-rotation', app: 'trade-matching', definition: { StartAt: 'A', States: {} }, available: true }],
    latestReport: () => latestReport(dataDir),
    regionAction: async (region, action) => {
      calls.regions.push({ region, action });
      if (region !== 'us-east-1') throw new RegionNotFoundError(`the twin has no region ${region}`);
      if (action === 'start') throw new RegionCommandError(`region ${region} is up, not down`);
      return { region, action, state: 'down' };
    },
    chaos: async () => ({ experiments: [{ name: 'duplicate-delivery', summary: 'records re-put', targetKind: 'streams', defaultTargets: ['tm-matching'], defaultDurationMs: 5_000, brokenBuild: false }], running: [], recent: [] }),
    chaosAction: async (experiment, request) => {
      calls.chaos.push({ experiment, request });
      if (experiment !== 'duplicate-delivery') throw Object.assign(new Error(`no experiment named ${experiment}`), { name: 'UnknownExperimentError' });
      return [{ id: 'chaos-1', experiment, targets: ['tm-matching'], durationMs: 5_000, state: request.action === 'start' ? 'running' : 'stopped', startedAt: '2026-12-07T22:00:00.000Z', notes: [] }];
    },
  };
  return { backend, calls };
}

async function started(options: { staticDir?: string; maxEventClients?: number } = {}): Promise<{ server: RunningDashboardServer; calls: Calls; dataDir: string }> {
  const dataDir = await mkdtemp(path.join(directory, 'data-'));
  const { backend, calls } = fakeBackend(dataDir);
  const server = await startDashboardServer({ backend, dataDir, staticDir: options.staticDir ?? staticDir, ...(options.maxEventClients ? { maxEventClients: options.maxEventClients } : {}) });
  servers.push(server);
  return { server, calls, dataDir };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  json<T = { error: string; type: string }>(): T;
}

function call(server: RunningDashboardServer, method: string, route: string, options: { headers?: Record<string, string>; body?: string; token?: string | null } = {}): Promise<Answer> {
  const token = options.token === undefined ? server.token : options.token;
  const headers = { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...options.headers };
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${server.url}${route}`, { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => void (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: <T>() => JSON.parse(text) as T }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

const postJson = (server: RunningDashboardServer, route: string, body: unknown, headers: Record<string, string> = {}) =>
  call(server, 'POST', route, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

/** Opens /api/events and resolves with its response as soon as the headers are in. */
function openEvents(server: RunningDashboardServer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => httpRequest(`${server.url}/api/events?token=${server.token}`, resolve).on('error', reject).end());
}

/** Opens /api/events and collects its `snapshot` events with their arrival times until `count` arrived. */
function readSnapshots(server: RunningDashboardServer, count: number): Promise<{ response: IncomingMessage; events: Array<{ at: number; snapshot: DashboardSnapshot }> }> {
  return new Promise((resolve, reject) => {
    const events: Array<{ at: number; snapshot: DashboardSnapshot }> = [];
    const outgoing = httpRequest(`${server.url}/api/events?token=${server.token}`, (response) => {
      let buffer = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          if (!lines.includes('event: snapshot')) continue;
          const data = lines.find((line) => line.startsWith('data: '))!.slice('data: '.length);
          events.push({ at: performance.now(), snapshot: JSON.parse(data) as DashboardSnapshot });
          if (events.length === count) {
            outgoing.destroy();
            resolve({ response, events });
          }
        }
      });
    });
    outgoing.on('error', (error) => {
      if (events.length < count) reject(error);
    });
    outgoing.end();
  });
}

describe('the dashboard server', () => {
  it('writes its URL and token to dashboard.json, readable by its owner only, and removes it on close', async () => {
    // Prepare
    const { server, dataDir } = await started();
    const file = path.join(dataDir, 'dashboard.json');

    // Act
    const mode = (await stat(file)).mode & 0o777;
    const saved = JSON.parse(await readFile(file, 'utf8')) as { url: string; token: string };
    await server.close();

    // Assess
    expect(mode).toBe(0o600);
    expect(saved).toEqual({ url: server.url, token: server.token });
    expect(server.token).toMatch(/^[0-9a-f]{64}$/);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.openUrl).toBe(`${server.url}/#token=${server.token}`);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('answers 401 to API requests without the token, with a wrong one, or with it in the query of anything but /api/events', async () => {
    // Prepare
    const { server, calls } = await started();

    // Act
    const none = await call(server, 'GET', '/api/snapshot', { token: null });
    const wrong = await call(server, 'GET', '/api/snapshot', { token: 'f'.repeat(64) });
    const short = await call(server, 'GET', '/api/snapshot', { token: 'x' });
    const inQuery = await call(server, 'GET', `/api/snapshot?token=${server.token}`, { token: null });
    const post = await call(server, 'POST', '/api/generator', { token: null, headers: { 'content-type': 'application/json' }, body: '{"action":"stop"}' });
    const right = await call(server, 'GET', '/api/snapshot');

    // Assess
    expect([none.status, wrong.status, short.status, inQuery.status, post.status]).toEqual([401, 401, 401, 401, 401]);
    expect(none.json().type).toBe('Unauthorized');
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(calls.generator).toEqual([]);
    expect(right.status).toBe(200);
    expect(right.json<DashboardSnapshot>().metrics['us-east-1']!['tm-ingestion']!.RecordsProcessed).toBe(1);
  });

  it('refuses requests from another origin or for another host with 403, and sends no CORS headers', async () => {
    // Prepare
    const { server, calls } = await started();
    const ownOrigin = server.url;

    // Act
    const foreign = await postJson(server, '/api/routing-controls/trade-matching-generator', { state: 'Off' }, { origin: 'https://evil.example' });
    const nullOrigin = await call(server, 'GET', '/api/snapshot', { headers: { origin: 'null' } });
    const foreignPage = await call(server, 'GET', '/', { headers: { origin: 'http://127.0.0.1:1' } });
    const rebound = await call(server, 'GET', '/api/snapshot', { headers: { host: `evil.example:${server.port}` } });
    const own = await postJson(server, '/api/routing-controls/trade-matching-generator', { state: 'Off' }, { origin: ownOrigin });

    // Assess
    expect([foreign.status, nullOrigin.status, foreignPage.status, rebound.status]).toEqual([403, 403, 403, 403]);
    expect(foreign.json().type).toBe('ForbiddenOrigin');
    expect(rebound.json().type).toBe('ForbiddenHost');
    expect(own.status).toBe(200);
    expect(calls.routingControls).toEqual([{ name: 'trade-matching-generator', state: 'Off' }]);
    for (const answer of [foreign, own]) expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('takes JSON bodies only (415), says what is wrong with a bad one (400) and refuses big ones (413)', async () => {
    // Prepare
    const { server, calls } = await started();

    // Act
    const notJson = await call(server, 'POST', '/api/generator', { headers: { 'content-type': 'text/plain' }, body: '{"action":"stop"}' });
    const noType = await call(server, 'POST', '/api/generator', { body: '{"action":"stop"}' });
    const broken = await call(server, 'POST', '/api/generator', { headers: { 'content-type': 'application/json' }, body: '{"action":' });
    const array = await postJson(server, '/api/generator', ['stop']);
    const negative = await postJson(server, '/api/generator', { action: 'start', rate: -2 });
    const unknownAction = await postJson(server, '/api/generator', { action: 'pause' });
    const badState = await postJson(server, '/api/routing-controls/trade-matching-generator', { state: 'on' });
    const badExecution = await postJson(server, '/api/executions', { stateMachine: 'tm-rotation', input: 'go' });
    const huge = await postJson(server, '/api/executions', { stateMachine: 'tm-rotation', input: { padding: 'x'.repeat(70 * 1024) } });
    const wrongMethod = await call(server, 'GET', '/api/generator');

    // Assess
    expect([notJson.status, noType.status]).toEqual([415, 415]);
    expect(notJson.json().error).toContain('application/json');
    expect([broken.status, array.status, negative.status, unknownAction.status, badState.status, badExecution.status]).toEqual([400, 400, 400, 400, 400, 400]);
    expect(broken.json().error).toMatch(/^the body is not JSON/);
    expect(array.json().error).toBe('the body must be a JSON object');
    expect(negative.json().error).toBe('rate: must be above 0 legs per second');
    expect(unknownAction.json().error).toBe('action: must be "start" (with a rate) or "stop"');
    expect(badState.json().error).toBe('state: must be "On" or "Off"');
    expect(badExecution.json().error).toBe('input: must be a JSON object');
    expect(huge.status).toBe(413);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(calls.generator).toEqual([]);
    expect(calls.routingControls).toEqual([]);
    expect(calls.executions).toEqual([]);
  });

  it('pushes a snapshot at once and another a second later over /api/events, and lets the slot go when the client leaves', async () => {
    // Prepare
    const { server } = await started({ maxEventClients: 1 });

    // Act
    const { response, events } = await readSnapshots(server, 2);
    const statuses: number[] = [];
    await waitFor(
      async () => {
        const next = await openEvents(server);
        next.destroy();
        statuses.push(next.statusCode ?? 0);
        return next.statusCode === 200;
      },
      { timeoutMs: 2_000, intervalMs: 50, what: 'the slot of the client that left' },
    );

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(events.map((event) => event.snapshot.metrics['us-east-1']!['tm-ingestion']!.RecordsProcessed)).toEqual([1, 2]);
    const apart = events[1]!.at - events[0]!.at;
    expect(apart).toBeGreaterThan(800);
    expect(apart).toBeLessThan(1_600);
    expect(statuses.at(-1)).toBe(200);
  });

  it('answers 429 beyond its limit of event clients', async () => {
    // Prepare
    const { server } = await started({ maxEventClients: 1 });
    const held = await openEvents(server);

    // Act
    const refused = await call(server, 'GET', `/api/events?token=${server.token}`, { token: null });
    held.destroy();

    // Assess
    expect(held.statusCode).toBe(200);
    expect(refused.status).toBe(429);
    expect(refused.json().type).toBe('TooManyClients');
  });

  it('sets a routing control through the backend, and maps a safety rule’s refusal to 409', async () => {
    // Prepare
    const { server, calls } = await started();

    // Act
    const accepted = await postJson(server, '/api/routing-controls/trade-matching-generator', { state: 'On' });
    const refused = await postJson(server, '/api/routing-controls/trade-matching-dns-us-east-1', { state: 'Off' });

    // Assess
    expect(accepted.status).toBe(200);
    expect(accepted.json()).toEqual({ name: 'trade-matching-generator', state: 'On' });
    expect(refused.status).toBe(409);
    expect(refused.json()).toEqual({ error: expect.stringContaining('trade-matching-dns-at-least-one-on'), type: 'SafetyRuleViolationError' });
    expect(calls.routingControls).toEqual([
      { name: 'trade-matching-generator', state: 'On' },
      { name: 'trade-matching-dns-us-east-1', state: 'Off' },
    ]);
  });

  it('stops or kills a region through the backend: 404 for an unknown region, 409 when the action does not fit, 400 for an unknown action', async () => {
    // Prepare
    const { server, calls } = await started();

    // Act
    const killed = await postJson(server, '/api/regions/us-east-1', { action: 'kill' });
    const unknown = await postJson(server, '/api/regions/eu-west-9', { action: 'stop' });
    const refused = await postJson(server, '/api/regions/us-east-1', { action: 'start' });
    const invalid = await postJson(server, '/api/regions/us-east-1', { action: 'reboot' });
    const wrongMethod = await call(server, 'GET', '/api/regions/us-east-1');

    // Assess: the invalid body and the GET never reach the backend.
    expect(killed.status).toBe(200);
    expect(killed.json()).toEqual({ region: 'us-east-1', action: 'kill', state: 'down' });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ type: 'RegionNotFoundError' });
    expect(refused.status).toBe(409);
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({ error: expect.stringContaining('must be "stop", "kill" or "start"') });
    expect(wrongMethod.status).toBe(405);
    expect(calls.regions).toEqual([
      { region: 'us-east-1', action: 'kill' },
      { region: 'eu-west-9', action: 'stop' },
      { region: 'us-east-1', action: 'start' },
    ]);
  });

  it('lists chaos experiments, starts one with targets and a duration, stops it; 404 for an unknown one, 400 for a bad request', async () => {
    // Prepare
    const { server, calls } = await started();

    // Act
    const listed = await call(server, 'GET', '/api/chaos');
    const startedRun = await postJson(server, '/api/chaos/duplicate-delivery', { action: 'start', targets: ['tm-matching'], durationSeconds: 5 });
    const stopped = await postJson(server, '/api/chaos/duplicate-delivery', { action: 'stop' });
    const unknown = await postJson(server, '/api/chaos/no-such-thing', { action: 'stop' });
    const invalid = await postJson(server, '/api/chaos/duplicate-delivery', { action: 'start', durationSeconds: -1 });

    // Assess
    expect(listed.status).toBe(200);
    expect(listed.json<{ experiments: { name: string }[] }>().experiments.map((entry) => entry.name)).toEqual(['duplicate-delivery']);
    expect(startedRun.status).toBe(200);
    expect(startedRun.json<{ state: string }[]>()[0]!.state).toBe('running');
    expect(stopped.json<{ state: string }[]>()[0]!.state).toBe('stopped');
    expect(unknown.status).toBe(404);
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({ error: expect.stringContaining('durationSeconds: must be above 0 seconds') });
    expect(calls.chaos).toEqual([
      { experiment: 'duplicate-delivery', request: { action: 'start', targets: ['tm-matching'], durationSeconds: 5 } },
      { experiment: 'duplicate-delivery', request: { action: 'stop' } },
      { experiment: 'no-such-thing', request: { action: 'stop' } },
    ]);
  });

  it('starts and stops the generator, starts executions and reads them and the state machines', async () => {
    // Prepare
    const { server, calls } = await started();

    // Act
    const start = await postJson(server, '/api/generator', { action: 'start', rate: 2.5 });
    const stop = await postJson(server, '/api/generator', { action: 'stop' });
    const execution = await postJson(server, '/api/executions', { stateMachine: 'tm-rotation', input: { app: 'trade-matching', targetRegion: 'us-west-2' } });
    const described = await call(server, 'GET', '/api/executions/run-1');
    const machines = await call(server, 'GET', '/api/state-machines');

    // Assess
    expect(start.json()).toEqual({ state: 'running', rate: 2.5, legsSent: 0 });
    expect(stop.json()).toEqual({ state: 'stopped', rate: 5, legsSent: 12 });
    expect(calls.generator).toEqual([{ action: 'start', rate: 2.5 }, { action: 'stop' }]);
    expect(execution.json()).toEqual({ executionName: 'run-1' });
    expect(calls.executions).toEqual([{ stateMachine: 'tm-rotation', input: { app: 'trade-matching', targetRegion: 'us-west-2' } }]);
    expect(described.json()).toMatchObject({ name: 'run-1', status: 'RUNNING' });
    expect(machines.json()).toEqual([{ name: 'tm-rotation', app: 'trade-matching', definition: { StartAt: 'A', States: {} }, available: true }]);
  });

  it('serves the newest missing-transaction report as JSON or CSV, with a file name, and 404 before there is one', async () => {
    // Prepare
    const { server, dataDir } = await started();
    const before = await call(server, 'GET', '/api/reports/latest');
    const reports = path.join(dataDir, 'reports');
    await mkdir(reports);
    await writeFile(path.join(reports, 'reconciliation-settlement-old.json'), '{"app":"settlement"}\n');
    await writeFile(path.join(reports, 'missing-transactions-run7.json'), '{"missing":[]}\n');
    await writeFile(path.join(reports, 'missing-transactions-run7.csv'), 'source,id,queue_or_state,at\n');
    const past = new Date(Date.now() - 60_000);
    await utimes(path.join(reports, 'reconciliation-settlement-old.json'), past, past);

    // Act
    const json = await call(server, 'GET', '/api/reports/latest');
    const csv = await call(server, 'GET', '/api/reports/latest?format=csv');
    const bad = await call(server, 'GET', '/api/reports/latest?format=xml');

    // Assess
    expect(before.status).toBe(404);
    expect(json.status).toBe(200);
    expect(json.json()).toEqual({ missing: [] });
    expect(json.headers['content-disposition']).toBe('attachment; filename="missing-transactions-run7.json"');
    expect(json.headers['x-rotor-report-kind']).toBe('missing-transactions');
    expect(csv.text).toBe('source,id,queue_or_state,at\n');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="missing-transactions-run7.csv"');
    expect(bad.status).toBe(400);
  });

  it('serves the built UI: its files, index.html for other paths, 404 for a missing file and nothing outside dist', async () => {
    // Prepare
    const { server } = await started();

    // Act
    const index = await call(server, 'GET', '/', { token: null });
    const asset = await call(server, 'GET', '/assets/index-abc123.js', { token: null });
    const deepLink = await call(server, 'GET', '/executions/run-1', { token: null });
    const missing = await call(server, 'GET', '/assets/gone.js', { token: null });
    const escape = await call(server, 'GET', '/..%2f..%2fpackage.json', { token: null });
    const unknownApi = await call(server, 'GET', '/api/nothing');

    // Assess
    expect(index.status).toBe(200);
    expect(index.text).toContain('Rotor operations');
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(asset.text).toBe('console.log("rotor");');
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(deepLink.text).toContain('Rotor operations');
    expect(missing.status).toBe(404);
    expect(escape.status).toBe(404);
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.json().type).toBe('NotFound');
  });

  it('answers 503 with a page saying how to build the UI when dashboard/dist is missing, while the API still answers', async () => {
    // Prepare
    const { server } = await started({ staticDir: path.join(directory, 'not-built') });

    // Act
    const page = await call(server, 'GET', '/', { token: null });
    const api = await call(server, 'GET', '/api/state-machines');

    // Assess
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('dashboard not built: run npm run build:dashboard');
    expect(api.status).toBe(200);
  });
});
