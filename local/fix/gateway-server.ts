import net from 'node:net';
import { AcceptorSession } from '#shared/fix/acceptor-session.ts';
import type { Counterparty } from '#shared/fix/counterparties.ts';
import { gatewayApplication, LegForwarder } from '#shared/fix/gateway-application.ts';
import { LeaderElection } from '#shared/fix/leader-election.ts';
import type { FixLegStore } from '#shared/fix/leg-store.ts';
import type { OutcomeReporter } from '#shared/fix/outcomes.ts';
import type { LeaseStore, SessionStore } from '#shared/fix/ports.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';

/**
 * One FIX gateway process: a TCP acceptor that serves sessions only while this process holds the region's lease.
 * Elected, it claims every configured session under its new epoch (from then on a deposed leader's writes to them
 * are refused), re-drives stored legs not yet forwarded and accepts connections. Deposed — a renewal refused or
 * any fenced write refused — it drops every session at once and refuses connections until elected again.
 */

export interface FixGatewayConfig {
  readonly region: string;
  readonly holder: string;
  readonly host: string;
  readonly port: number;
  /** What the lease advertises to the front; `host:port` by default. */
  readonly advertisedAddress?: string;
  readonly counterparties: ReadonlyMap<string, Counterparty>;
  readonly sessions: SessionStore & { refused?: number };
  readonly legs: FixLegStore & { refused?: number };
  readonly leases: LeaseStore;
  readonly broker: MessageBroker;
  readonly tradesQueue: string;
  readonly outcomes?: (deps: { sessionOf: (compId: string) => AcceptorSession | undefined; epoch: () => number | undefined }) => OutcomeReporter;
  readonly leaseTtlMs: number;
  readonly leaseRenewMs: number;
  readonly leasePollMs: number;
  readonly redriveMs?: number;
  readonly log: (event: string, fields?: Record<string, unknown>) => void;
}

export interface RunningFixGateway {
  readonly address: string;
  readonly election: LeaderElection;
  readonly forwarder: LegForwarder;
  activeSessions(): number;
  /** Writes the stores refused because a newer epoch owned the item. */
  refusedWrites(): number;
  /** Stops as a killed process would: no more renewals, every connection dropped, the lease left to expire. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFixGateway(config: FixGatewayConfig): Promise<RunningFixGateway> {
  const { log } = config;
  const sessions = new Set<AcceptorSession>();
  const sockets = new Set<net.Socket>();
  let election: LeaderElection;
  const epoch = () => election.epoch();
  const onFenced = (error: Error) => {
    log('write refused', { reason: error.message, refused: refusedWrites() });
    election.depose('a fenced write was refused');
  };
  const refusedWrites = () => (config.sessions.refused ?? 0) + (config.legs.refused ?? 0);
  const forwarder = new LegForwarder({ broker: config.broker, queue: config.tradesQueue, legs: config.legs, epoch, onFenced, log });
  const application = gatewayApplication({ legs: config.legs, forwarder, epoch, log });
  const sessionOf = (compId: string) => [...sessions].find((session) => session.state === 'active' && session.compId === compId);
  const outcomes = config.outcomes?.({ sessionOf, epoch });

  const dropAll = (reason: string) => {
    for (const session of sessions) session.end(reason);
    for (const socket of sockets) socket.destroy();
  };

  // Elected is not yet ready: connections wait until every session is claimed under the new epoch.
  let readyEpoch: number | undefined;
  const server = net.createServer((socket) => {
    if (epoch() === undefined || readyEpoch !== epoch()) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    sockets.add(socket);
    const session = new AcceptorSession({
      store: config.sessions,
      epoch,
      counterparties: config.counterparties,
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      close: () => socket.end(() => socket.destroy()),
      application,
      admit: (candidate) => ![...sessions].some((other) => other !== candidate && other.state === 'active' && other.compId === candidate.compId),
      onFenced,
      trace: process.env.FIX_TRACE === '1',
      log: (event, fields) => log(event, { ...fields, remote: socket.remotePort }),
    });
    sessions.add(session);
    socket.on('data', (chunk) => session.receive(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      session.end('connection closed');
      sessions.delete(session);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  const address = config.advertisedAddress ?? `${config.host}:${bound.port}`;

  let redriveTimer: NodeJS.Timeout | undefined;
  election = new LeaderElection({
    leases: config.leases,
    region: config.region,
    holder: config.holder,
    address,
    ttlMs: config.leaseTtlMs,
    renewMs: config.leaseRenewMs,
    pollMs: config.leasePollMs,
    log,
    onElected: async (lease) => {
      // Claiming every session first: from here on the previous leader's writes to them are refused.
      await Promise.all([...config.counterparties.keys()].map((compId) => config.sessions.claim(compId, lease.epoch)));
      readyEpoch = lease.epoch;
      const pending = await forwarder.redrive();
      log('leading', { epoch: lease.epoch, address, redriven: pending });
      outcomes?.start();
      redriveTimer = setInterval(() => void forwarder.redrive().catch(() => undefined), config.redriveMs ?? 5_000);
    },
    onDeposed: (reason) => {
      readyEpoch = undefined;
      if (redriveTimer) clearInterval(redriveTimer);
      outcomes?.stop();
      dropAll(`deposed: ${reason}`);
    },
  });
  const ticker = setInterval(() => {
    for (const session of sessions) session.tick();
  }, 1_000);
  election.start();

  return {
    address,
    election,
    forwarder,
    activeSessions: () => [...sessions].filter((session) => session.state === 'active').length,
    refusedWrites,
    async crash() {
      clearInterval(ticker);
      if (redriveTimer) clearInterval(redriveTimer);
      await outcomes?.stop();
      election.abandon();
      dropAll('gateway crashed');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async stop() {
      clearInterval(ticker);
      if (redriveTimer) clearInterval(redriveTimer);
      await outcomes?.stop();
      await election.stop();
      dropAll('gateway stopping');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
