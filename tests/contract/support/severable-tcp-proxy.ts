/**
 * A TCP relay in front of a broker that a test can cut, so a client "dies" exactly as a crashed process would:
 * the broker sees its connection drop without any DISCONNECT.
 */
import { createServer, Socket } from 'node:net';

export interface SeverableTcpProxy {
  readonly url: string;
  /** Destroys every relayed connection at once, in both directions. */
  sever(): void;
  close(): Promise<void>;
}

export async function startSeverableTcpProxy(target: { host: string; port: number }): Promise<SeverableTcpProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy is not listening on TCP');
  const sever = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `stomp://127.0.0.1:${address.port}`,
    sever,
    async close() {
      sever();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
