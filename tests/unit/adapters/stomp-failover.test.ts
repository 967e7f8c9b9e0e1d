import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startStompBroker } from '#local/mq/stomp-broker.ts';
import { closeStomp, connectStomp, parseStompEndpoints } from '#shared/adapters/stomp/stomp-connection.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { BrokerRejectedError, BrokerUnavailableError } from '#shared/ports/message-broker.ts';

/**
 * An Amazon MQ active/standby pair has one endpoint per instance and only the active one accepts connections; a
 * broker URL listing both must reach whichever is active, and keep going to it after a failover.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A port nobody listens on: connecting to it is refused, as connecting to the standby instance is. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A server that counts connections and answers each CONNECT with `reply` (nothing: it just hangs up). */
async function scriptedServer(port = 0, reply?: string) {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    if (reply === undefined) socket.destroy();
    else socket.once('data', () => socket.write(reply));
  });
  const listening = await listen(server, port);
  let connections = 0;
  server.on('connection', () => connections++);
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: listening, connections: () => connections };
}

async function embeddedBroker() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-stomp-failover-'));
  const broker = await startStompBroker({ dataDir, port: 0 });
  let running = true;
  const stop = async () => {
    if (running) await broker.close();
    running = false;
  };
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }), stop);
  return { broker, stop };
}

describe('connectStomp over a list of endpoints', () => {
  it('connects through the second endpoint when the first refuses, and starts with it from then on', async () => {
    // Prepare: the first instance is the standby (refusing), the second the active one.
    const standby = await closedPort();
    const { broker: active } = await embeddedBroker();
    const url = `stomp://127.0.0.1:${standby},${active.url}`;
    const rotor = new StompMessageBroker({ url, connectTimeoutMs: 2_000, receiptTimeoutMs: 2_000 });
    cleanups.push(() => rotor.close());

    // Act: send over the list, then bring the first endpoint up (as a server that would answer) and connect again.
    await rotor.send('orders', 'placed');
    const formerStandby = await scriptedServer(standby, 'CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');
    const depth = await rotor.queueDepth('orders');

    // Assess: the message reached the active broker, and the later connection went straight back to it.
    expect(await active.queueDepth('orders')).toBe(1);
    expect(depth).toBe(1);
    expect(formerStandby.connections()).toBe(0);
  });

  it('fails with a BrokerUnavailableError naming every endpoint, without its login, when none accepts', async () => {
    // Prepare: the second endpoint accepted once (so it is tried first), then both went down.
    const first = await closedPort();
    const { broker, stop } = await embeddedBroker();
    const endpoints = parseStompEndpoints(`stomp://rotor:hunter2@127.0.0.1:${first},stomp://rotor:hunter2@127.0.0.1:${broker.port}`);
    await closeStomp(await connectStomp(endpoints, 2_000), 500);
    await stop();
    const secondStarts = await scriptedServer(broker.port);

    // Act
    const error = await connectStomp(endpoints, 2_000).catch((caught: unknown) => caught);

    // Assess: the second endpoint was tried (first) and the message says why each one failed.
    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(error).toMatchObject({ transient: true });
    expect(secondStarts.connections()).toBe(1);
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${first}: connect ECONNREFUSED`);
    expect(message).toContain(`127.0.0.1:${broker.port}: `);
    expect(message.indexOf(`:${broker.port}: `)).toBeLessThan(message.indexOf(`:${first}: `));
    expect(JSON.stringify(error)).not.toContain('hunter2');
    expect(message).not.toContain('hunter2');
  });

  it('stops at a refusal instead of trying the next endpoint, whose users are the same', async () => {
    // Prepare
    const refusing = await scriptedServer(0, 'ERROR\nmessage:User name [rotor] or password is invalid.\n\n\0');
    const next = await scriptedServer(0, 'CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\0');

    // Act
    const connecting = connectStomp(parseStompEndpoints(`stomp://rotor:wrong@127.0.0.1:${refusing.port},stomp://rotor:wrong@127.0.0.1:${next.port}`), 2_000);

    // Assess
    await expect(connecting).rejects.toBeInstanceOf(BrokerRejectedError);
    expect(next.connections()).toBe(0);
  });
});
