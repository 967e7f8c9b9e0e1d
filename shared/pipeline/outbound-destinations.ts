import { z } from 'zod';
import type { OutboundRecord } from '#domain/pipeline-messages.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { regionalRoutingControlName } from '#shared/ports/routing-controls.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * Where the outbound gateway sends each message. Answers to senders stay in the app's own region; a message for the
 * other app — settlements to the settlement app, their results back to trade matching — goes to the region that
 * app is active in, as a client reaching that app's broker through its DNS failover record would. So each app
 * rotates on its own: a trade matched in one region settles in whichever region settlement serves from.
 */

export type Destination = OutboundRecord['destination'];

export interface ResolvedDestination {
  readonly broker: MessageBroker;
  /** The queue's name on that broker. */
  readonly queue: string;
  readonly region?: string;
}

export type DestinationResolver = (destination: Destination) => Promise<ResolvedDestination>;

/** The app each cross-app destination belongs to; other destinations are the gateway's own app's queues. */
export const CROSS_APP_DESTINATIONS: Readonly<Partial<Record<Destination, AppName>>> = {
  SETTLEMENT_QUEUE: 'settlement',
  SETTLEMENT_RESULT_QUEUE: 'trade-matching',
};

/** `EDGE_BROKERS`: every region's broker, and the prefix its queue names carry on a broker regions share. */
export const EdgeBrokers = z.record(z.string(), z.strictObject({ url: z.string().min(1), queuePrefix: z.string() }));
export type EdgeBrokers = z.infer<typeof EdgeBrokers>;

export class UnknownDestinationError extends Error {
  override readonly name = 'UnknownDestinationError';
}

/** No region, or more than one, serves the destination's app: transient, the record comes back once routing settles. */
export class NoServingRegionError extends Error {
  override readonly name = 'NoServingRegionError';
  readonly transient = true;
}

/** Every destination on the gateway's own broker (one region, or no routing controls to follow). */
export function localDestinations(broker: MessageBroker, queues: Readonly<Partial<Record<Destination, string>>>): DestinationResolver {
  return async (destination) => {
    const queue = queues[destination];
    if (!queue) throw new UnknownDestinationError(`this gateway has no ${destination}`);
    return { broker, queue };
  };
}

export interface EdgeDestinationsOptions {
  readonly region: string;
  readonly localBroker: MessageBroker;
  /** The gateway's queues as its environment names them in its own region. */
  readonly queues: Readonly<Partial<Record<Destination, string>>>;
  readonly brokers: EdgeBrokers;
  /** Whether a routing control is On, cached (RoutingGate.isOn). */
  readonly isOn: (controlName: string) => Promise<boolean>;
  /** One client per broker URL, kept for the life of the function. */
  readonly brokerFor: (url: string) => MessageBroker;
}

export function edgeDestinations(options: EdgeDestinationsOptions): DestinationResolver {
  const local = localDestinations(options.localBroker, options.queues);
  const ownPrefix = options.brokers[options.region]?.queuePrefix ?? '';
  return async (destination) => {
    const app = CROSS_APP_DESTINATIONS[destination];
    if (!app) return local(destination);
    const { queue: localQueue } = await local(destination);
    const regions = Object.keys(options.brokers);
    const serving = (await Promise.all(regions.map(async (region) => ((await options.isOn(regionalRoutingControlName(`${app}-dns`, region))) ? region : undefined)))).filter(
      (region): region is string => region !== undefined,
    );
    if (serving.length !== 1) throw new NoServingRegionError(`${app} is served from ${serving.length === 0 ? 'no region' : serving.join(' and ')}; ${destination} waits`);
    const region = serving[0]!;
    if (region === options.region) return { broker: options.localBroker, queue: localQueue, region };
    const target = options.brokers[region]!;
    const baseName = localQueue.startsWith(ownPrefix) ? localQueue.slice(ownPrefix.length) : localQueue;
    return { broker: options.brokerFor(target.url), queue: `${target.queuePrefix}${baseName}`, region };
  };
}
