import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { closeStomp, connectStomp, parseStompEndpoints, parseStompUrl } from '#shared/adapters/stomp/stomp-connection.ts';
import { BrokerRejectedError, BrokerUnavailableError } from '#shared/ports/message-broker.ts';
import type { SecretSource } from '#shared/ports/secrets.ts';

/**
 * Broker URLs: `stomp://` for the twin and a local ActiveMQ, `stomp+ssl://…?credentials=<secret ARN>` for Amazon MQ,
 * whose login comes from Secrets Manager when the connection is opened.
 */

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor/mq-AbCdEf';
const AMAZON_MQ_HOST = 'b-1234abcd-1.mq.us-east-1.amazonaws.com';

describe('parseStompUrl', () => {
  it('reads a plain stomp:// URL as before: no TLS, no login', () => {
    // Act
    const endpoint = parseStompUrl('stomp://127.0.0.1:61700');

    // Assess
    expect(endpoint).toEqual({ host: '127.0.0.1', port: 61700, tls: false });
  });

  it('defaults the port to 61613 for stomp: and 61614 for stomp+ssl:', () => {
    // Act
    const plain = parseStompUrl('stomp://broker.local');
    const secure = parseStompUrl(`stomp+ssl://${AMAZON_MQ_HOST}`);

    // Assess
    expect(plain).toMatchObject({ port: 61613, tls: false });
    expect(secure).toMatchObject({ host: AMAZON_MQ_HOST, port: 61614, tls: true });
  });

  it('reads the login and passcode of stomp://login:passcode@host, percent-decoded', () => {
    // Act
    const endpoint = parseStompUrl('stomp://rotor:p%40ss%3Aword@broker.local:61613');

    // Assess
    expect(endpoint).toEqual({ host: 'broker.local', port: 61613, tls: false, login: 'rotor', passcode: 'p@ss:word' });
  });

  it('takes the credentials parameter of the AWS form as the secret id, decoded', () => {
    // Act
    const endpoint = parseStompUrl(`stomp+ssl://${AMAZON_MQ_HOST}:61614?credentials=${encodeURIComponent(ARN)}`);

    // Assess
    expect(endpoint).toEqual({ host: AMAZON_MQ_HOST, port: 61614, tls: true, credentialsSecretId: ARN });
  });

  it('allows the credentials parameter on a plain stomp:// URL too', () => {
    // Act
    const endpoint = parseStompUrl(`stomp://broker.local:61613?credentials=${encodeURIComponent(ARN)}`);

    // Assess
    expect(endpoint).toEqual({ host: 'broker.local', port: 61613, tls: false, credentialsSecretId: ARN });
  });

  it.each(['http://broker.local:61613', 'ssl://broker.local:61617', 'amqp+ssl://broker.local:5671', 'not a url'])('refuses %s with BrokerRejectedError', (url) => {
    // Act
    const parse = () => parseStompUrl(url);

    // Assess
    expect(parse).toThrow(BrokerRejectedError);
  });

  it('does not repeat a passcode in its error messages', () => {
    // Act
    const error = (() => {
      try {
        parseStompUrl('tcp://rotor:hunter2@broker.local:61613');
      } catch (caught) {
        return caught as Error;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error?.message).toContain('stomp+ssl://');
    expect(error?.message).not.toContain('hunter2');
  });

  it('refuses a URL with both a login and a credentials secret, and an empty credentials parameter', () => {
    // Act
    const both = () => parseStompUrl(`stomp://rotor:pw@broker.local?credentials=${encodeURIComponent(ARN)}`);
    const empty = () => parseStompUrl('stomp+ssl://broker.local?credentials=');

    // Assess
    expect(both).toThrow(BrokerRejectedError);
    expect(empty).toThrow(BrokerRejectedError);
  });
});

/** An Amazon MQ active/standby pair: one endpoint per instance, one secret for both. */
const PAIR = ['b-1234abcd-1.mq.us-east-1.amazonaws.com', 'b-1234abcd-2.mq.us-east-1.amazonaws.com'];
const SECRET_NAME = 'rotor/prod/broker-us-east-1';

describe('parseStompEndpoints', () => {
  it('reads a URL without a list as parseStompUrl does, even with a comma in the passcode', () => {
    // Act
    const endpoints = parseStompEndpoints('stomp://rotor:pa,ss@broker.local:61613');

    // Assess
    expect(endpoints).toEqual([parseStompUrl('stomp://rotor:pa,ss@broker.local:61613')]);
    expect(endpoints[0]).toMatchObject({ passcode: 'pa,ss' });
  });

  it('reads each element of a list with its own scheme and port, defaults included', () => {
    // Act
    const endpoints = parseStompEndpoints(`stomp+ssl://${PAIR[0]}:61617, stomp+ssl://${PAIR[1]},stomp://127.0.0.1:61700`);

    // Assess
    expect(endpoints).toEqual([
      { host: PAIR[0], port: 61617, tls: true },
      { host: PAIR[1], port: 61614, tls: true },
      { host: '127.0.0.1', port: 61700, tls: false },
    ]);
  });

  it.each([
    ['the last element', `stomp+ssl://${PAIR[0]}:61614,stomp+ssl://${PAIR[1]}:61614?credentials=${encodeURIComponent(SECRET_NAME)}`],
    ['the first element', `stomp+ssl://${PAIR[0]}:61614?credentials=${encodeURIComponent(SECRET_NAME)},stomp+ssl://${PAIR[1]}:61614`],
    ['every element', PAIR.map((host) => `stomp+ssl://${host}:61614?credentials=${encodeURIComponent(SECRET_NAME)}`).join(',')],
  ])('applies parameters written on %s to every element', (_placement, urls) => {
    // Act
    const endpoints = parseStompEndpoints(urls);

    // Assess
    expect(endpoints).toEqual(PAIR.map((host) => ({ host, port: 61614, tls: true, credentialsSecretId: SECRET_NAME })));
  });

  it('refuses one parameter with two values, without quoting them, and a login beside a credentials secret', () => {
    // Act
    const conflicting = () => parseStompEndpoints(`stomp+ssl://${PAIR[0]}?credentials=secret-one,stomp+ssl://${PAIR[1]}?credentials=secret-two`);
    const loginAndSecret = () => parseStompEndpoints(`stomp://rotor:pw@${PAIR[0]},stomp://${PAIR[1]}?credentials=${SECRET_NAME}`);

    // Assess
    expect(conflicting).toThrow(BrokerRejectedError);
    expect(conflicting).toThrow(/parameter 'credentials' different values/);
    expect(conflicting).not.toThrow(/secret-one|secret-two/);
    expect(loginAndSecret).toThrow(BrokerRejectedError);
  });

  it.each([`stomp://${PAIR[0]},,stomp://${PAIR[1]}`, `stomp://${PAIR[0]},`, `, stomp://${PAIR[1]}`])('refuses the empty element of %s', (urls) => {
    // Act
    const parse = () => parseStompEndpoints(urls);

    // Assess
    expect(parse).toThrow(BrokerRejectedError);
    expect(parse).toThrow(/empty/);
  });
});

/** A STOMP server (TLS when given a key and certificate) that answers CONNECT and keeps the CONNECT frames. */
function fakeStompServer(tlsOptions?: { key: Buffer; cert: Buffer }) {
  const connectFrames: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = tlsOptions ? createTlsServer(tlsOptions) : createServer();
  server.on(tlsOptions ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const end = received.indexOf('\0');
      if (end < 0) return;
      const frame = received.slice(0, end).replace(/^\n+/, '');
      received = received.slice(end + 1);
      if (frame.startsWith('DISCONNECT')) {
        socket.end(`RECEIPT\nreceipt-id:${headerOf(frame, 'receipt') ?? ''}\n\n\0`);
        return;
      }
      connectFrames.push(frame);
      socket.write('CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    server,
    connectFrames,
    async listen(): Promise<number> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as { port: number }).port;
    },
    async close(): Promise<void> {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerOf(frame: string, name: string): string | undefined {
  return frame
    .split('\n')
    .find((line) => line.startsWith(`${name}:`))
    ?.slice(name.length + 1);
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('connectStomp with a credentials secret', () => {
  it('logs in with the username and password of the secret, read once for every connection', async () => {
    // Prepare
    const fake = fakeStompServer();
    const port = await fake.listen();
    cleanups.push(() => fake.close());
    const reads: string[] = [];
    const secrets: SecretSource = {
      getSecretString: async (id) => (reads.push(id), JSON.stringify({ username: 'rotor-mq', password: 'pa$$w0rd!' })),
    };
    const endpoint = parseStompUrl(`stomp://127.0.0.1:${port}?credentials=${encodeURIComponent(ARN)}`);

    // Act
    const clients = await Promise.all([connectStomp(endpoint, 2_000, secrets), connectStomp(endpoint, 2_000, secrets)]);
    await Promise.all(clients.map((client) => closeStomp(client, 500)));

    // Assess
    expect(reads).toEqual([ARN]);
    expect(fake.connectFrames).toHaveLength(2);
    expect(fake.connectFrames.map((frame) => [headerOf(frame, 'login'), headerOf(frame, 'passcode')])).toEqual([
      ['rotor-mq', 'pa$$w0rd!'],
      ['rotor-mq', 'pa$$w0rd!'],
    ]);
  });

  it('fails with a transient BrokerUnavailableError naming the secret when the secret cannot be read', async () => {
    // Prepare
    const secrets: SecretSource = { getSecretString: () => Promise.reject(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' })) };
    const endpoint = parseStompUrl(`stomp+ssl://${AMAZON_MQ_HOST}?credentials=${encodeURIComponent(`${ARN}-unreadable`)}`);

    // Act
    const error = await connectStomp(endpoint, 500, secrets).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ transient: true });
    expect((error as Error).message).toContain(`${ARN}-unreadable`);
    expect((error as Error).cause).toMatchObject({ name: 'SecretUnavailableError' });
  });

  it('fails with a BrokerRejectedError when the secret holds no username and password, without quoting it', async () => {
    // Prepare
    const secrets: SecretSource = { getSecretString: async () => 'hunter2' };
    const endpoint = parseStompUrl(`stomp+ssl://${AMAZON_MQ_HOST}?credentials=${encodeURIComponent(`${ARN}-malformed`)}`);

    // Act
    const error = await connectStomp(endpoint, 500, secrets).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BrokerRejectedError);
    expect(error).toMatchObject({ transient: false });
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('drops the connect options (passcode included) stompit attaches to a connect error', async () => {
    // Prepare: a port nobody listens on.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    // Act
    const error = await connectStomp(parseStompUrl(`stomp://rotor:hunter2@127.0.0.1:${port}`), 2_000).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect((error as Error).cause).not.toHaveProperty('connectArgs');
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });
});

function opensslAvailable(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('connectStomp over stomp+ssl://', () => {
  it.skipIf(!opensslAvailable())('speaks TLS and verifies the certificate: a self-signed broker is refused', async () => {
    // Prepare
    const directory = await mkdtemp(path.join(tmpdir(), 'rotor-stomp-tls-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const [key, cert] = [path.join(directory, 'key.pem'), path.join(directory, 'cert.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const fake = fakeStompServer({ key: await readFile(key), cert: await readFile(cert) });
    const port = await fake.listen();
    cleanups.push(() => fake.close());

    // Act
    const error = await connectStomp(parseStompUrl(`stomp+ssl://localhost:${port}`), 2_000).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toMatch(/SELF_SIGNED/);
    expect(fake.connectFrames).toEqual([]);
  });
});
