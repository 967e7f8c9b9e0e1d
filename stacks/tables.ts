import type { StagePlan } from './plan/index.ts';
import { logicalName } from './names.ts';

/**
 * DynamoDB global tables: the primary stage creates each table with a replica in every other region (PITR on
 * every replica, TTL where the manifest has one); other stages use the replica in their region by its name.
 */
export function createTables(plan: StagePlan) {
  return plan.tables
    .filter((table) => table.createdHere)
    .map((table) => new aws.dynamodb.Table(logicalName('Table', table.manifest), table.args, { protect: table.args.deletionProtectionEnabled }));
}
