/**
 * Opening STOMP connections and waiting for broker receipts, with failures mapped onto the port's error classes.
 */
import { isIP } from 'node:net';
import stompit from 'stompit';
import type { Client } from 'stompit';
import { CREDENTIALS_PARAMETER, secretCredentials } from '#shared/adapters/secrets/secret-credentials.ts';
import { BrokerRejectedError, BrokerUnavailableError, type MessageBrokerError } from '#shared/ports/message-broker.ts';
import { InvalidSecretError, type SecretSource } from '#shared/ports/secrets.ts';

export type StompClient = Client;
export type StompMessage = Client.Message & { readonly headers: Record<string, string> };

export interface StompEndpoint {
  readonly host: string;
  readonly port: number;
  /** `stomp+ssl://`: TLS, verifying the broker's certificate against `host` (Amazon MQ's is publicly trusted). */
  readonly tls: boolean;
  readonly login?: string;
  readonly passcode?: string;
  /** The secret holding `{"username", "password"}`, read when connecting (on AWS, a Secrets Manager ARN). */
  readonly credentialsSecretId?: string;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'stomp:': 61613, 'stomp+ssl:': 61614 };

/**
 * `stomp://[login:passcode@]host[:port]` (the twin, a local ActiveMQ) or
 * `stomp+ssl://host[:port]?credentials=<encoded secret id>` (Amazon MQ); `credentials` is allowed on either.
 */
export function parseStompUrl(url: string): StompEndpoint {
  const parsed = parseUrl(url);
  return endpointOf(parsed, parsed.searchParams);
}

/**
 * A broker URL that may list several endpoints, comma-separated: an Amazon MQ active/standby pair has one endpoint
 * per instance and only the active one accepts connections, e.g.
 * `stomp+ssl://b-…-1.mq…:61614,stomp+ssl://b-…-2.mq…:61614?credentials=<encoded secret id>`.
 * Each element is read as by parseStompUrl. Query parameters written on any element apply to every element (once on
 * the last or repeated on each, alike); the same parameter with different values on two elements is an error, and
 * so is an empty element. Only a comma starting another `scheme://` (or an empty element) separates elements, so a
 * single URL, even one whose passcode holds a comma, yields exactly parseStompUrl's endpoint.
 */
export function parseStompEndpoints(urls: string): readonly StompEndpoint[] {
  const elements = urls.split(ELEMENT_SEPARATOR);
  if (elements.length === 1) return [parseStompUrl(urls)];
  const parsed = elements.map((element, index) => {
    if (!element.trim()) throw new BrokerRejectedError(`element ${index + 1} of the broker URL list is empty`);
    return parseUrl(element.trim());
  });
  const parameters = sharedParameters(parsed);
  return parsed.map((url) => endpointOf(url, parameters));
}

const ELEMENT_SEPARATOR = /,(?=\s*(?:[a-z][a-z0-9+.-]*:\/\/|,|$))/i;

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new BrokerRejectedError('the broker URL is not a valid URL (expected stomp://host:port or stomp+ssl://host:port)');
  }
}

function sharedParameters(urls: readonly URL[]): URLSearchParams {
  const merged = new Map<string, string>();
  for (const url of urls) {
    for (const name of new Set(url.searchParams.keys())) {
      const value = url.searchParams.get(name)!;
      const earlier = merged.get(name);
      // Values are not quoted: a parameter could one day carry something confidential.
      if (earlier !== undefined && earlier !== value) throw new BrokerRejectedError(`the broker URL list gives parameter '${name}' different values`);
      merged.set(name, value);
    }
  }
  return new URLSearchParams([...merged]);
}

function endpointOf(parsed: URL, parameters: URLSearchParams): StompEndpoint {
  const defaultPort = DEFAULT_PORTS[parsed.protocol];
  if (defaultPort === undefined) throw new BrokerRejectedError(`not a stomp:// or stomp+ssl:// URL: ${redacted(parsed)}`);
  if (!parsed.hostname) throw new BrokerRejectedError(`the broker URL has no host: ${redacted(parsed)}`);
  const secretId = parameters.get(CREDENTIALS_PARAMETER) ?? undefined;
  if (secretId !== undefined && parsed.username) {
    // Two logins would leave it unclear which one the broker sees.
    throw new BrokerRejectedError(`the broker URL has both a login and a credentials secret: ${redacted(parsed)}`);
  }
  if (secretId === '') throw new BrokerRejectedError(`the broker URL's credentials parameter is empty: ${redacted(parsed)}`);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || defaultPort),
    tls: parsed.protocol === 'stomp+ssl:',
    ...(parsed.username ? { login: decodeURIComponent(parsed.username), passcode: decodeURIComponent(parsed.password) } : {}),
    ...(secretId !== undefined ? { credentialsSecretId: secretId } : {}),
  };
}

function redacted(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
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

/**
 * Opens a STOMP session. An endpoint naming a credentials secret logs in with the secret's username and password,
 * read through `secrets` (Secrets Manager when omitted) once per process.
 *
 * Given several endpoints (parseStompEndpoints), tries them in turn, each with the full `timeoutMs`, starting with
 * the one this list last connected through, and fails with a BrokerUnavailableError naming every endpoint only
 * when none accepted. A refusal (BrokerRejectedError) ends the attempt at once: the instances of a pair share their
 * users and configuration, so the next one would refuse too.
 */
export async function connectStomp(endpoints: StompEndpoint | readonly StompEndpoint[], timeoutMs: number, secrets?: SecretSource): Promise<StompClient> {
  const list = 'host' in endpoints ? [endpoints] : endpoints;
  if (list.length === 1) return openSession(list[0]!, await loginFor(list[0]!, secrets), timeoutMs);
  return connectToFirstAvailable(list, timeoutMs, secrets);
}

// Per endpoint list, the index it last connected through. After a failover the former standby stays active, so
// every later connection (from any broker object on the same list) goes there first instead of waiting out the other.
const lastConnected = new Map<string, number>();

async function connectToFirstAvailable(endpoints: readonly StompEndpoint[], timeoutMs: number, secrets: SecretSource | undefined): Promise<StompClient> {
  const key = endpoints.map((endpoint) => `${endpoint.tls ? 'stomp+ssl' : 'stomp'}://${endpoint.host}:${endpoint.port}`).join(',');
  const start = lastConnected.get(key) ?? 0;
  const failures: { readonly endpoint: StompEndpoint; readonly error: BrokerUnavailableError }[] = [];
  for (let offset = 0; offset < endpoints.length; offset++) {
    const index = (start + offset) % endpoints.length;
    const endpoint = endpoints[index]!;
    // Outside the try: an unreadable secret is no fault of this endpoint, and the next one would need it too.
    const login = await loginFor(endpoint, secrets);
    try {
      const client = await openSession(endpoint, login, timeoutMs);
      lastConnected.set(key, index);
      return client;
    } catch (error) {
      if (!(error instanceof BrokerUnavailableError)) throw error;
      failures.push({ endpoint, error });
    }
  }
  // Each failure's cause is the socket error (connect options already dropped), so no login reaches the message.
  const reasons = failures.map(({ endpoint, error }) => `${endpoint.host}:${endpoint.port}: ${error.cause instanceof Error ? error.cause.message : error.message}`);
  const causes = failures.map(({ error }) => error);
  throw new BrokerUnavailableError(`no broker endpoint accepted a connection (${reasons.join('; ')})`, { cause: new AggregateError(causes, 'every broker endpoint failed') });
}

interface StompLogin {
  readonly login: string;
  readonly passcode: string;
}

async function loginFor(endpoint: StompEndpoint, secrets: SecretSource | undefined): Promise<StompLogin | undefined> {
  if (endpoint.credentialsSecretId === undefined) {
    return endpoint.login === undefined ? undefined : { login: endpoint.login, passcode: endpoint.passcode ?? '' };
  }
  try {
    const { username, password } = await secretCredentials(secrets).credentialsFor(endpoint.credentialsSecretId);
    return { login: username, passcode: password };
  } catch (error) {
    // Callers handle the port's errors only; the secret error stays the cause (it never holds the secret's value).
    const doing = `read the broker credentials for ${endpoint.host}:${endpoint.port}`;
    const message = `cannot ${doing}: ${(error as Error).message}`;
    if (error instanceof InvalidSecretError) throw new BrokerRejectedError(message, { cause: error });
    throw new BrokerUnavailableError(message, { cause: error });
  }
}

function openSession(endpoint: StompEndpoint, login: StompLogin | undefined, timeoutMs: number): Promise<StompClient> {
  return new Promise<StompClient>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, client?: StompClient) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (client) resolve(client);
      else reject(toBrokerError(withoutConnectArgs(error), `connect to ${endpoint.host}:${endpoint.port}`));
    };
    const connectHeaders = { host: '/', 'accept-version': '1.2', 'heart-beat': '0,0', ...login };
    const options: stompit.connect.ConnectOptions = endpoint.tls
      ? // SNI takes host names only (RFC 6066); the certificate is still checked against an IP host.
        { ssl: true, host: endpoint.host, port: endpoint.port, ...(isIP(endpoint.host) ? {} : { servername: endpoint.host }), connectHeaders }
      : { host: endpoint.host, port: endpoint.port, connectHeaders };
    const client = stompit.connect(options, (error, connected) => finish(error, error ? undefined : connected));
    // stompit throws from an 'error' event nobody listens to; every later failure is surfaced per request instead.
    client.on('error', (error: Error) => finish(error));
    const timer = setTimeout(() => {
      finish(new Error(`no CONNECTED frame within ${timeoutMs} ms`));
      client.destroy(new Error('connect timeout'));
    }, timeoutMs);
  });
}

/**
 * stompit attaches its connect options, passcode included, to a connect error as `connectArgs`; loggers print an
 * error's own properties and its cause's, so they are dropped before the error becomes a cause.
 */
function withoutConnectArgs(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'connectArgs' in error) delete (error as { connectArgs?: unknown }).connectArgs;
  return error;
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
