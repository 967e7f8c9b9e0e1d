import net from 'node:net';
import type { Lease, LeaseStore } from '#shared/fix/ports.ts';

/**
 * The twin's stand-in for the network load balancer in front of the FIX gateways: one address for clients, each
 * connection piped to the process that holds the region's lease right now (read from the lease table, as a load
 * balancer's health check would find the one healthy target). When the lease moves, connections to the old
 * holder are cut, so clients reconnect — and reach the new leader — without waiting out their heartbeats.
 */

export interface FixFrontOptions {
  readonly leases: LeaseStore;
  readonly region: string;
  readonly host?: string;
  readonly port?: number;
  readonly pollMs?: number;
}

export interface RunningFixFront {
  readonly address: string;
  readonly port: number;
  /** The lease the front routes by, as last read. */
  leader(): Lease | undefined;
  stop(): Promise<void>;
}

export async function startFixFront(options: FixFrontOptions): Promise<RunningFixFront> {
  let leader: Lease | undefined;
  const routed = new Map<net.Socket, { client: net.Socket; epoch: number }>();
  const refresh = async () => {
    try {
      const lease = await options.leases.current(options.region);
      leader = lease && lease.expiresAt > Date.now() ? lease : undefined;
    } catch {
      leader = undefined;
    }
    // Only a newer epoch cuts connections: a renewal that is merely late (a busy store) must not disturb sessions.
    for (const [upstream, route] of routed) {
      if (leader !== undefined && leader.epoch !== route.epoch) {
        upstream.destroy();
        route.client.destroy();
      }
    }
  };
  await refresh();
  let polling = false;
  const poller = setInterval(() => {
    if (polling) return;
    polling = true;
    void refresh().finally(() => (polling = false));
  }, options.pollMs ?? 100);

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    const target = leader;
    if (!target) {
      client.destroy();
      return;
    }
    const [host, port] = splitAddress(target.address);
    const upstream = net.connect({ host, port });
    routed.set(upstream, { client, epoch: target.epoch });
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      routed.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: `${options.host ?? '127.0.0.1'}:${bound.port}`,
    port: bound.port,
    leader: () => leader,
    async stop() {
      clearInterval(poller);
      for (const [upstream, route] of routed) {
        upstream.destroy();
        route.client.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  return [host === '0.0.0.0' ? '127.0.0.1' : host, Number(address.slice(at + 1))];
}
