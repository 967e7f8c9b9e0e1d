import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '#local/support/listen.ts';

/**
 * The region's own HTTP endpoint on 127.0.0.1: `GET /status` answers what the controller, the dashboard and
 * `rotor status` ask a region (endpoints, functions, mapping metrics, memory), as JSON. Other paths go to the
 * routes first, in order (the Lambda Invoke API, the Aurora replication agent); a route answers and returns true
 * when the path is its own.
 */

export type StatusServerRoute = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface RunningStatusServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startStatusServer(port: number, status: () => Promise<unknown>, routes: readonly StatusServerRoute[] = []): Promise<RunningStatusServer> {
  const server: Server = createServer((request, response) => {
    if (routes.some((route) => route(request, response))) return;
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/status') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    status().then(
      (body) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (error: unknown) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) })),
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
