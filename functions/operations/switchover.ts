import { Logger } from '@aws-lambda-powertools/logger';
import { RdsGlobalDatabaseControl } from '#shared/adapters/rds/rds-global-database-control.ts';
import { DatabaseSwitchoverRequest, switchoverDatabase, type DatabaseSwitchoverResult } from '#shared/operations/database-switchover.ts';
import { topology } from '#shared/topology/index.ts';

/**
 * `ops-switchover`: moves an app's Aurora Global Database writer to `toRegion` (rotation: `switchover`, DR:
 * `failover`). Input `{app, toRegion, mode, database?}` starts the move and returns IN_PROGRESS (or DONE when the
 * writer is already there); the same input with `check: true` starts nothing and is what the workflow polls until
 * DONE. See shared/operations/database-switchover.ts for the contract.
 */

const logger = new Logger({ serviceName: 'ops-switchover', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const control = RdsGlobalDatabaseControl.fromEnvironment();

export const handler = async (event: unknown): Promise<DatabaseSwitchoverResult> => {
  const request = DatabaseSwitchoverRequest.parse(event);
  const result = await switchoverDatabase(request, { control, topology });
  logger.info(request.check ? 'global database move checked' : 'global database move requested', { ...result });
  return result;
};
