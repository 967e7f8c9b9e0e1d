import type { Topology } from '#shared/topology/schema.ts';

/**
 * The smallest manifest with an Aurora global database: one database in both regions and nothing else, so a
 * region starts in the time PGlite takes to open. The global database's tables are created by its coordinator
 * (`ReplicaSetup.schema`), as an app's migrations would create them.
 */
export const auroraTopology: Topology = {
  regions: ['us-east-1', 'us-west-2'],
  streams: [],
  tables: [],
  queues: [],
  databases: [{ name: 'ledger-db', engine: 'aurora-postgresql', global: true }],
  functions: [],
  stateMachines: [],
  routingControls: [],
};
