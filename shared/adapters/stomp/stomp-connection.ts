/**
 * Opening STOMP connections and waiting for broker receipts, with failures mapped onto the port's error classes.
 */
import stompit from 'stompit';
import type { Client } from 'stompit';
import { BrokerRejectedError, BrokerUnavailableError, type MessageBrokerError } from '#shared/ports/message-broker.ts';

export type StompClient = Client;
export type StompMessage = Client.Message & { readonly headers: Record<string, string> };

export interface StompEndpoint {
  readonly host: string;
  readonly port: number;
  readonly login?: string;
  readonly passcode?: string;
}

/** `stomp://[login:passcode@]host:port` as used in Rotor's configuration. */
export function parseStompUrl(url: string): StompEndpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'stomp:') throw new BrokerRejectedError(`not a stomp:// URL: ${url}`);
  const port = Number(parsed.port || 61613);
  return {
    host: parsed.hostname,
    port,
    ...(parsed.username ? { login: decodeURIComponent(parsed.username), passcode: decodeURIComponent(parsed.password) } : {}),
  };
}

interface StompSocketError extends Error {
  isApplicationError?: () => boolean;
}

/** An ERROR frame from the broker is a refusal; anything else (refused, reset, timeout) is an outage. */
export function toBrokerError(error: unknown, doing: string): MessageBrokerError {
  const cause = error as StompSocketError;
  const detail = cause?.message ?? String(error);
  if (typeof cause?.isApplicationError === 'function' && cause.isApplicationError()) {
    return new BrokerRejectedError(`broker refused to ${doing}: ${detail}`, { cause: error });
  }
  return new BrokerUnavailableError(`broker unavailable while trying to ${doing}: ${detail}`, { cause: error });
}

export function connectStomp(endpoint: StompEndpoint, timeoutMs: number): Promise<StompClient> {
  return new Promise<StompClient>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, client?: StompClient) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (client) resolve(client);
      else reject(toBrokerError(error, `connect to ${endpoint.host}:${endpoint.port}`));
    };
    const client = stompit.connect(
      {
        host: endpoint.host,
        port: endpoint.port,
        connectHeaders: {
          host: '/',
          'accept-version': '1.2',
          'heart-beat': '0,0',
          ...(endpoint.login !== undefined ? { login: endpoint.login, passcode: endpoint.passcode } : {}),
        },
      },
      (error, connected) => finish(error, error ? undefined : connected),
    );
    // stompit throws from an 'error' event nobody listens to; every later failure is surfaced per request instead.
    client.on('error', (error: Error) => finish(error));
    const timer = setTimeout(() => {
      finish(new Error(`no CONNECTED frame within ${timeoutMs} ms`));
      client.destroy(new Error('connect timeout'));
    }, timeoutMs);
  });
}

type FailureListener = (error: unknown) => void;

// One 'error' listener per connection fans a failure out to every request still waiting for its receipt.
const waitingForReceipt = new WeakMap<StompClient, Set<FailureListener>>();

function receiptWaiters(client: StompClient): Set<FailureListener> {
  let waiters = waitingForReceipt.get(client);
  if (!waiters) {
    const created = new Set<FailureListener>();
    client.on('error', (error: Error) => {
      for (const fail of [...created]) fail(error);
    });
    waitingForReceipt.set(client, created);
    waiters = created;
  }
  return waiters;
}

/**
 * Runs a request that asks the broker for a receipt; resolves when the receipt arrives, rejects when the connection
 * fails first or nothing comes back in time.
 */
export function awaitReceipt(client: StompClient, doing: string, timeoutMs: number, request: (options: Client.SendOptions) => void): Promise<void> {
  const waiters = receiptWaiters(client);
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      if (!waiters.delete(fail)) return;
      clearTimeout(timer);
      if (error === undefined) resolve();
      else reject(toBrokerError(error, doing));
    };
    const fail: FailureListener = (error) => finish(error ?? new Error('connection failed'));
    const timer = setTimeout(() => fail(new Error(`no receipt within ${timeoutMs} ms`)), timeoutMs);
    waiters.add(fail);
    // Without onError stompit adds no listener of its own; failures arrive through the shared listener above.
    request({ onReceipt: () => finish() } as Client.SendOptions);
  });
}

export function closeStomp(client: StompClient, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      client.destroy(new Error('disconnect timeout'));
      resolve();
    }, timeoutMs);
    client.disconnect(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
