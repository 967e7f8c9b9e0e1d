import type { EnvValue } from './schema.ts';

/**
 * How a function that serves every app (the rotation's task functions) finds a manifest resource as its platform
 * deployed it: one environment variable per resource, named mechanically from the resource, so the manifest that
 * declares the variables and the code that reads them derive the same name from the same manifest entry.
 *
 *   table    tm-ingestion-store  → TABLE_TM_INGESTION_STORE
 *   queue    tm.trades           → QUEUE_TM_TRADES          (the twin prefixes queues on a shared broker)
 *   database tm-db               → DATABASE_TM_DB           (a connection string)
 */

export type ResourceKind = 'table' | 'queue' | 'database';

export function resourceVariable(kind: ResourceKind, name: string): string {
  return `${kind.toUpperCase()}_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** The manifest `env` naming each resource under its variable. */
export function resourceEnvironment(resources: Partial<Record<ResourceKind, readonly string[]>>): Record<string, EnvValue> {
  const env: Record<string, EnvValue> = {};
  for (const kind of ['table', 'queue', 'database'] as const) {
    for (const name of resources[kind] ?? []) env[resourceVariable(kind, name)] = { [kind]: name } as EnvValue;
  }
  return env;
}
