import type { AddressInfo, Server } from 'node:net';

/** Starts `server` listening and resolves its bound port (port 0 picks a free one); a bind error rejects. */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
