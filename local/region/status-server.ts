import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The region's own HTTP endpoint on 127.0.0.1: `GET /status` answers what the controller, the dashboard and
 * `rotor status` ask a region (endpoints, functions, mapping metrics, memory), as JSON. Other paths go to
 * `otherRoutes` first (the Aurora replication agent), which answers and returns true when the path is its own.
 */

export interface RunningStatusServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startStatusServer(
  port: number,
  status: () => Promise<unknown>,
  otherRoutes?: (request: IncomingMessage, response: ServerResponse) => boolean,
): Promise<RunningStatusServer> {
  const server: Server = createServer((request, response) => {
    if (otherRoutes?.(request, response)) return;
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/status') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    status().then(
      (body) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (error: unknown) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(error) })),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: boundPort } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
