import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of an AWS-API emulator that answers chosen requests itself, the way the real service
 * does when it throttles or fails: an awsJson error body with the service's `__type`, or a reset connection.
 * Everything else goes through to the emulator unchanged, so the SDK under test talks real HTTP throughout.
 */

export type AwsFault = { readonly status: number; readonly type: string; readonly message?: string } | 'reset';

export interface AwsFaultProxy {
  readonly endpoint: string;
  /** Answers the next `count` requests for `operation` (e.g. `PutRecords`; any operation when omitted) with `fault`. */
  failNext(count: number, fault: AwsFault, operation?: string): void;
  /**
   * Runs `action` when a request for `operation` arrives (the next one, or the one after `skip` more) and forwards
   * the request only once it is done: how a test lands a competing write between two calls of the code under test.
   */
  beforeNext(operation: string, action: () => Promise<unknown>, options?: { skip?: number }): void;
  /** Requests received for `operation` (all when omitted), faulted or not. */
  requests(operation?: string): number;
  close(): Promise<void>;
}

/** `X-Amz-Target: Kinesis_20131202.PutRecords` → `PutRecords`. */
function operationOf(request: http.IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.indexOf('.') + 1) : '';
}

export async function startAwsFaultProxy(target: string): Promise<AwsFaultProxy> {
  const targetUrl = new URL(target);
  const faults: { remaining: number; fault: AwsFault; operation?: string }[] = [];
  const received: string[] = [];
  const hooks: { operation: string; skip: number; action: () => Promise<unknown> }[] = [];

  /** Each hook counts the requests since it was set; the first one due fires. */
  const dueHook = (operation: string) => {
    let due: (() => Promise<unknown>) | undefined;
    for (const hook of hooks.filter((candidate) => candidate.operation === operation)) {
      if (hook.skip > 0) hook.skip -= 1;
      else if (!due) {
        due = hook.action;
        hooks.splice(hooks.indexOf(hook), 1);
      }
    }
    return due;
  };

  const server = http.createServer((request, response) => {
    const operation = operationOf(request);
    received.push(operation);
    const planned = faults.find((candidate) => candidate.remaining > 0 && (!candidate.operation || candidate.operation === operation));
    if (planned) {
      planned.remaining -= 1;
      request.resume();
      if (planned.fault === 'reset') {
        request.socket.destroy();
        return;
      }
      const body = JSON.stringify({ __type: planned.fault.type, message: planned.fault.message ?? `injected ${planned.fault.type}` });
      response.writeHead(planned.fault.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': planned.fault.type });
      response.end(body);
      return;
    }
    const hook = dueHook(operation);
    const ready = hook ? hook() : Promise.resolve();
    ready.then(() => forward(request, response), () => request.socket.destroy());
  });

  const forward = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const upstream = http.request(
      { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => request.socket.destroy());
    request.pipe(upstream);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failNext(count, fault, operation) {
      faults.push({ remaining: count, fault, ...(operation ? { operation } : {}) });
    },
    beforeNext(operation, action, { skip = 0 } = {}) {
      hooks.push({ operation, skip, action });
    },
    requests(operation) {
      return operation ? received.filter((candidate) => candidate === operation).length : received.length;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
