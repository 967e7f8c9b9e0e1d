import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';
import type { DashboardSnapshot, ExecutionView, StateMachineView } from '../../shared/dashboard/contract.ts';
import { fixtureExecution, startFixtureExecution, type FixtureRun } from './fixture-runs.ts';

/**
 * For `vite` (dev server) and `vite preview` only, never in the build: either proxy /api to a running dashboard server, or answer it
 * from dashboard/fixtures/ with token `dev` (open http://127.0.0.1:5173/#token=dev). The fixture pushes its
 * snapshot every second, refuses dns/app changes that break the one-region rule (409) and walks a started
 * execution through its definition one state a second, which is enough to exercise every view.
 */

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const DEV_TOKEN = 'dev';

export function devApi(apiUrl: string | undefined): Plugin {
  return {
    name: 'rotor-dashboard-dev-api',
    apply: 'serve',
    config: () =>
      apiUrl
        ? { server: { proxy: { '/api': { target: apiUrl, changeOrigin: true, configure: (proxy) => proxy.on('proxyReq', (request) => request.removeHeader('origin')) } } } }
        : undefined,
    configureServer(server) {
      if (apiUrl) return;
      const api = fixtureApi();
      server.middlewares.use('/api', (request, response, next) => void api(request, response).catch(next));
    },
    // `vite preview` (the built dist/) gets the same fixture API, to try the production bundle.
    configurePreviewServer(server) {
      if (apiUrl) return;
      const api = fixtureApi();
      server.middlewares.use('/api', (request, response, next) => void api(request, response).catch(next));
    },
  };
}

function stateMachines(): StateMachineView[] {
  const dir = here('../../workflows/');
  return readdirSync(dir)
    .filter((file) => file.endsWith('.asl.json'))
    .flatMap((file) => {
      const definition: unknown = JSON.parse(readFileSync(dir + file, 'utf8'));
      const workflow = file.replace('.asl.json', '');
      return (['trade-matching', 'settlement'] as const).map((app) => ({ name: `${app === 'settlement' ? 'sm' : 'tm'}-${workflow}`, app, definition, available: true }));
    });
}

function send(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function fixtureApi() {
  const base = JSON.parse(readFileSync(here('../fixtures/snapshot.json'), 'utf8')) as DashboardSnapshot;
  const machines = stateMachines();
  const controls = new Map(base.routingControls.map((control) => [control.name, control.state]));
  let generator = base.generator;
  const runs = new Map<string, FixtureRun>();
  let tick = 0;

  const snapshot = (): DashboardSnapshot => {
    tick += 1;
    const rotate = (list: number[]) => [...list.slice(tick % list.length), ...list.slice(0, tick % list.length)];
    const series = Object.fromEntries(Object.entries(base.series).map(([region, services]) => [region, Object.fromEntries(Object.entries(services).map(([service, metrics]) => [service, Object.fromEntries(Object.entries(metrics).map(([metric, list]) => [metric, rotate(list)]))]))]));
    const executions = [...base.executions, ...[...runs.values()].map((run) => fixtureExecution(run, Date.now()))].map(({ name, stateMachine, status, region, startDate, stopDate }) => ({ name, stateMachine, status, region, startDate, ...(stopDate ? { stopDate } : {}) }));
    return { ...base, at: new Date().toISOString(), series, generator, executions, routingControls: [...controls].map(([name, state]) => ({ name, state })), replication: { ...base.replication, lagMs: 120 + (tick % 7) * 40 } };
  };

  return async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const authorized = request.headers.authorization === `Bearer ${DEV_TOKEN}` || (path === '/events' && url.searchParams.get('token') === DEV_TOKEN);
    if (!authorized) return send(response, 401, { error: 'unauthorized' });
    if (path === '/events') {
      response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      const push = () => response.write(`event: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
      push();
      const timer = setInterval(push, 1000);
      request.on('close', () => clearInterval(timer));
      return;
    }
    if (path === '/snapshot') return send(response, 200, snapshot());
    if (path === '/state-machines') return send(response, 200, machines);
    if (path === '/reports/latest') {
      return url.searchParams.get('format') === 'csv'
        ? send(response, 200, readFileSync(here('../fixtures/report.csv'), 'utf8'), 'text/csv')
        : send(response, 200, readFileSync(here('../fixtures/report.json'), 'utf8'));
    }
    if (request.method === 'POST' && path.startsWith('/routing-controls/')) {
      const name = decodeURIComponent(path.slice('/routing-controls/'.length));
      const state = (await readBody(request)).state === 'On' ? 'On' : 'Off';
      if (!controls.has(name)) return send(response, 404, { error: `no routing control ${name}` });
      const kind = /-(dns|app)-/.exec(name)?.[1];
      if (kind) {
        const prefix = name.slice(0, name.indexOf(`-${kind}-`) + kind.length + 2);
        const onAfter = [...controls].filter(([other, value]) => other.startsWith(prefix) && (other === name ? state : value) === 'On').length;
        if (onAfter !== 1) return send(response, 409, { error: `${prefix}at-${onAfter === 0 ? 'least' : 'most'}-one-on: the change would leave ${onAfter} ${kind} controls On`, type: 'ConflictException' });
      }
      controls.set(name, state);
      return send(response, 200, { name, state });
    }
    if (request.method === 'POST' && path === '/generator') {
      const body = await readBody(request);
      generator = { ...generator!, state: body.action === 'start' ? 'running' : 'stopped', rate: typeof body.rate === 'number' ? body.rate : generator!.rate };
      return send(response, 200, generator);
    }
    if (request.method === 'POST' && path === '/executions') {
      const run = startFixtureExecution(await readBody(request), machines);
      if (!run) return send(response, 400, { error: 'unknown state machine' });
      runs.set(run.name, run);
      return send(response, 200, { executionName: run.name });
    }
    if (path.startsWith('/executions/')) {
      const name = decodeURIComponent(path.slice('/executions/'.length));
      const run = runs.get(name);
      const known = base.executions.find((execution) => execution.name === name);
      if (run) return send(response, 200, fixtureExecution(run, Date.now()));
      if (known) return send(response, 200, { ...known, input: {}, states: [], ...(known.status === 'FAILED' ? { error: 'States.TaskFailed', cause: 'fixture' } : {}) } satisfies ExecutionView);
      return send(response, 404, { error: `no execution ${name}` });
    }
    return send(response, 404, { error: `no route ${request.method} /api${path}` });
  };
}
