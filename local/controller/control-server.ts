import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { NoActiveRegionError, SeveralActiveRegionsError } from '#shared/adapters/edge/active-broker.ts';
import { listen } from '#local/support/listen.ts';
import { MAX_INVOKE_PAYLOAD_BYTES } from '#local/region/invoke-endpoint.ts';
import { RegionCommandError, RegionUnavailableError } from '#local/controller/errors.ts';
import { isAppName, type InvokeTarget, type ProxiedInvocation } from '#local/controller/function-invoker.ts';
import { StateMachineNotFoundError, type TwinWorkflows } from '#local/controller/twin-workflows.ts';

/**
 * The controller's HTTP endpoint on 127.0.0.1, found through `controller.json` in the twin's data directory:
 *   GET  /status                                          the whole twin (what `rotor status --json` prints)
 *   POST /regions/<region>/stop|kill|start                an outage or a recovery of one region (`rotor region`)
 *   POST /regions/<region>/functions/<name>/invocations   invoke a function in that region
 *   POST /apps/<app>/functions/<name>/invocations         invoke it in the app's active region (dns control On)
 *   GET  /state-machines                                  the manifest's workflows and whether each is available
 *   POST /state-machines/<name>/executions                StartExecution: `{input, name?, region?}`
 *   GET  /state-machines/<name>/executions                ListExecutions, newest first
 *   GET  /executions/<name>                               DescribeExecution with its state-by-state history
 *   POST /executions/<name>/stop                          StopExecution
 * Invocations answer as AWS Lambda's Invoke API does (the region's status, `X-Amz-Function-Error` and body, passed
 * through), plus `X-Rotor-Region`: the region that ran it. A region that is not up, or an app with no active
 * region, is 409; other controller errors are `{error, type}`.
 */

export type RegionAction = 'stop' | 'kill' | 'start';

export interface ControlHandlers {
  status(): Promise<unknown>;
  regionAction(region: string, action: RegionAction): Promise<unknown>;
  invoke(target: InvokeTarget, functionName: string, payload: Buffer): Promise<ProxiedInvocation>;
  workflows: Pick<TwinWorkflows, 'start' | 'describe' | 'list' | 'stop' | 'stateMachines'>;
  /** Further routes (the chaos controller's, local/chaos/control-routes.ts); undefined when the path is not theirs. */
  routes?: (request: IncomingMessage, path: string, readBody: () => Promise<Buffer>) => Promise<Reply | undefined>;
}

export interface RunningControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const REGION_ACTION = /^\/regions\/([a-z0-9-]+)\/(stop|kill|start)$/;
const INVOCATION = /^\/(regions|apps)\/([a-z0-9-]+)\/functions\/([^/]+)\/invocations$/;
const EXECUTIONS = /^\/state-machines\/([a-z0-9-]+)\/executions$/;
const EXECUTION = /^\/executions\/([^/]+)(\/stop)?$/;

export type Reply = { status: number; json: unknown } | { status: number; text: string; headers: Record<string, string> };

class ControlRequestError extends Error {
  override readonly name = 'ControlRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startControlServer(port: number, handlers: ControlHandlers): Promise<RunningControlServer> {
  const server = createServer((request, response) => {
    void route(request, handlers).then(
      (reply) => send(response, reply),
      (error: unknown) => send(response, { status: statusOf(error), json: { error: error instanceof Error ? error.message : String(error), type: (error as Error).name } }),
    );
  });
  const boundPort = await listen(server, '127.0.0.1', port);
  return {
    url: `http://127.0.0.1:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function statusOf(error: unknown): number {
  if (error instanceof ControlRequestError) return error.status;
  if (error instanceof StateMachineNotFoundError) return 404;
  if (['InvalidExecutionNameError', 'ExecutionAlreadyExistsError', 'SyntaxError'].includes((error as Error).name)) return 400;
  const conflict = [RegionCommandError, RegionUnavailableError, NoActiveRegionError, SeveralActiveRegionsError].some((type) => error instanceof type);
  return conflict ? 409 : 500;
}

async function route(request: IncomingMessage, handlers: ControlHandlers): Promise<Reply> {
  const path = (request.url ?? '/').split('?')[0]!;
  if (request.method === 'GET' && path === '/status') return { status: 200, json: await handlers.status() };
  const action = REGION_ACTION.exec(path);
  if (request.method === 'POST' && action) return { status: 200, json: await handlers.regionAction(action[1]!, action[2] as RegionAction) };
  const invocation = INVOCATION.exec(path);
  if (request.method === 'POST' && invocation) {
    const [, kind, name, functionName] = invocation as unknown as [string, 'regions' | 'apps', string, string];
    if (kind === 'apps' && !isAppName(name)) throw new ControlRequestError(404, `no app named ${name}; apps are trade-matching and settlement`);
    const target: InvokeTarget = kind === 'apps' ? { app: name as 'trade-matching' | 'settlement' } : { region: name };
    const payload = await readPayload(request);
    const answer = await handlers.invoke(target, decodeURIComponent(functionName), payload);
    return {
      status: answer.status,
      text: answer.body,
      headers: {
        'content-type': 'application/json',
        'X-Rotor-Region': answer.region,
        ...(answer.functionError === undefined ? {} : { 'X-Amz-Function-Error': answer.functionError }),
      },
    };
  }
  const extra = await handlers.routes?.(request, path, () => readPayload(request));
  if (extra) return extra;
  const workflowReply = await routeWorkflows(request, path, handlers.workflows);
  if (workflowReply) return workflowReply;
  return { status: 404, json: { error: `no such controller request: ${request.method} ${path}` } };
}

async function routeWorkflows(request: IncomingMessage, path: string, workflows: ControlHandlers['workflows']): Promise<Reply | undefined> {
  if (request.method === 'GET' && path === '/state-machines') return { status: 200, json: workflows.stateMachines() };
  const executions = EXECUTIONS.exec(path);
  if (executions && request.method === 'GET') return { status: 200, json: workflows.list(executions[1]!) };
  if (executions && request.method === 'POST') {
    const body = (await readPayload(request)).toString('utf8');
    const { input, name, region } = (body.trim() === '' ? {} : JSON.parse(body)) as { input?: Record<string, unknown>; name?: string; region?: string };
    const started = await workflows.start(executions[1]!, input ?? {}, { ...(name ? { name } : {}), ...(region ? { region } : {}) });
    return { status: 200, json: started };
  }
  const execution = EXECUTION.exec(path);
  if (execution && request.method === 'GET' && !execution[2]) return { status: 200, json: workflows.describe(decodeURIComponent(execution[1]!)) };
  if (execution && request.method === 'POST' && execution[2]) return { status: 200, json: { stopped: workflows.stop(decodeURIComponent(execution[1]!)) } };
  return undefined;
}

async function readPayload(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_INVOKE_PAYLOAD_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_INVOKE_PAYLOAD_BYTES) throw new ControlRequestError(413, `the payload is ${size} bytes; Lambda takes at most ${MAX_INVOKE_PAYLOAD_BYTES}`);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.headersSent) return;
  if ('text' in reply) response.writeHead(reply.status, reply.headers).end(reply.text);
  else response.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
}
