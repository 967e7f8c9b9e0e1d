import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegionCommandError } from '#local/controller/errors.ts';

/**
 * The controller's HTTP endpoint on 127.0.0.1, found through `controller.json` in the twin's data directory:
 *   GET  /status                         the whole twin (what `rotor status --json` prints)
 *   POST /regions/<region>/stop|kill|start  an outage or a recovery of one region (what `rotor region` sends)
 */

export type RegionAction = 'stop' | 'kill' | 'start';

export interface ControlHandlers {
  status(): Promise<unknown>;
  regionAction(region: string, action: RegionAction): Promise<unknown>;
}

export interface RunningControlServer {
  readonly url: string;
  close(): Promise<void>;
}

const REGION_ACTION = /^\/regions\/([a-z0-9-]+)\/(stop|kill|start)$/;

export async function startControlServer(port: number, handlers: ControlHandlers): Promise<RunningControlServer> {
  const server = createServer((request, response) => {
    void route(request, handlers).then(
      ([status, body]) => send(response, status, body),
      (error: unknown) => {
        const clientError = error instanceof RegionCommandError;
        send(response, clientError ? 409 : 500, { error: error instanceof Error ? error.message : String(error), type: (error as Error).name });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function route(request: IncomingMessage, handlers: ControlHandlers): Promise<[number, unknown]> {
  const path = (request.url ?? '/').split('?')[0]!;
  if (request.method === 'GET' && path === '/status') return [200, await handlers.status()];
  const action = REGION_ACTION.exec(path);
  if (request.method === 'POST' && action) return [200, await handlers.regionAction(action[1]!, action[2] as RegionAction)];
  return [404, { error: `no such controller request: ${request.method} ${path}` }];
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
