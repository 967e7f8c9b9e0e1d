import { requiredEnv } from '#shared/config/environment.ts';
import { resourceVariable, type ResourceKind } from '#shared/topology/resource-variables.ts';
import type { AppName, Topology } from '#shared/topology/schema.ts';

/**
 * An app's resources as the manifest declares them, for the rotation's task functions: the queues its inbound
 * gateway consumes, its safe stores and its databases. Results name resources as the manifest does, so two
 * regions' answers compare; `ResourceNames` gives the name a resource is deployed under in this region.
 */

export interface AppResources {
  /** MQ queues consumed by the app's inbound gateway (`tm.trades`, `tm.settlements`; `sm.settlements`). */
  readonly inboundQueues: readonly string[];
  /** DynamoDB tables with purpose `safe-store`. */
  readonly safeStores: readonly string[];
  readonly databases: readonly string[];
}

export type ResourceNames = (kind: ResourceKind, manifestName: string) => string;

export class AppHasNoResourcesError extends Error {
  override readonly name = 'AppHasNoResourcesError';
  readonly transient = false;
}

export function appResources(topology: Pick<Topology, 'functions' | 'tables' | 'databases' | 'queues'>, app: AppName): AppResources {
  const mqQueues = new Set(topology.queues.filter((queue) => queue.service === 'mq').map((queue) => queue.name));
  const inboundQueues = [
    ...new Set(
      topology.functions
        .filter((fn) => fn.app === app)
        .flatMap((fn) => fn.triggers.flatMap((trigger) => (trigger.kind === 'mq' && mqQueues.has(trigger.queue) ? [trigger.queue] : []))),
    ),
  ];
  const safeStores = topology.tables.filter((table) => table.app === app && table.purpose === 'safe-store').map((table) => table.name);
  const databases = topology.databases.filter((database) => database.app === app).map((database) => database.name);
  if (inboundQueues.length === 0 || safeStores.length === 0) {
    throw new AppHasNoResourcesError(`the manifest gives ${app} no inbound queue or no safe store`);
  }
  return { inboundQueues, safeStores, databases };
}

/** Deployed names from the variables `resourceEnvironment` declared; a missing one is a deployment error. */
export function resourceNamesFromEnv(env: NodeJS.ProcessEnv = process.env): ResourceNames {
  return (kind, manifestName) => requiredEnv(resourceVariable(kind, manifestName), env);
}

/** The region a function runs in, as Lambda (and the twin) sets it. */
export function functionRegion(env: NodeJS.ProcessEnv = process.env): string {
  return requiredEnv('AWS_REGION', env);
}
