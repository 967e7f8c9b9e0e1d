import { z } from 'zod';
import { GlobalDatabaseStateError, type GlobalDatabaseControl, type GlobalDatabaseDescription } from '#shared/ports/global-database.ts';
import { AppName, type Topology } from '#shared/topology/schema.ts';

/**
 * Moving an app's Aurora Global Database writer to another region, as the rotation (`switchover`: no data loss, the
 * secondary catches up first) and disaster-recovery (`failover`: promote the survivor now, losing the unreplicated
 * tail; the old region may be dead) workflows need it. Both are asynchronous on AWS, so there are two calls:
 *
 * - start (`check` absent): begins the move unless the writer is already the target. Idempotent: calling it again
 *   while the move runs, or after it finished, starts nothing and reports where it stands.
 * - check (`check: true`): starts nothing; DONE once the target is the writer and the global cluster is
 *   `available`, IN_PROGRESS while the move runs, and SwitchoverNotInProgressError when the writer is elsewhere and
 *   nothing is moving it (a switchover the service cancelled, e.g. because the secondary could not catch up).
 *
 * `fromRegion` is the writer the move started from; a call that found nothing to do reports `toRegion`. A workflow
 * may pass the start's `fromRegion` back in the check so the check reports it too.
 */

export const DatabaseSwitchoverRequest = z.strictObject({
  app: AppName,
  toRegion: z.string().min(1),
  mode: z.enum(['switchover', 'failover']),
  /** A manifest database; default the app's global database (tm-db, sm-db). */
  database: z.string().min(1).optional(),
  check: z.boolean().optional(),
  fromRegion: z.string().min(1).optional(),
});
export type DatabaseSwitchoverRequest = z.infer<typeof DatabaseSwitchoverRequest>;

export interface DatabaseSwitchoverResult {
  readonly app: AppName;
  readonly database: string;
  readonly mode: 'switchover' | 'failover';
  readonly fromRegion: string;
  readonly toRegion: string;
  readonly status: 'IN_PROGRESS' | 'DONE';
}

/** The app has no global database in the manifest, so there is nothing to move. */
export class NoGlobalDatabaseError extends Error {
  override readonly name = 'NoGlobalDatabaseError';
  readonly transient = false;
}

/** Another switchover or failover, to another region, is running; this one must wait for it (or be abandoned). */
export class ConflictingSwitchoverError extends Error {
  override readonly name = 'ConflictingSwitchoverError';
  readonly transient = true;
}

/** A check found the writer elsewhere and nothing moving it: the move was cancelled, failed, or never started. */
export class SwitchoverNotInProgressError extends Error {
  override readonly name = 'SwitchoverNotInProgressError';
  readonly transient = false;
}

/** The app's global database in the manifest (tm-db for trade matching, sm-db for settlement). */
export function globalDatabaseOf(topology: Pick<Topology, 'databases'>, app: AppName): string {
  const database = topology.databases.find((candidate) => candidate.app === app && candidate.global);
  if (!database) throw new NoGlobalDatabaseError(`the manifest gives ${app} no global database`);
  return database.name;
}

export async function switchoverDatabase(
  request: DatabaseSwitchoverRequest,
  { control, topology }: { control: GlobalDatabaseControl; topology: Pick<Topology, 'databases'> },
): Promise<DatabaseSwitchoverResult> {
  const database = request.database ?? globalDatabaseOf(topology, request.app);
  const result = (status: DatabaseSwitchoverResult['status'], fromRegion: string | undefined): DatabaseSwitchoverResult => ({
    app: request.app,
    database,
    mode: request.mode,
    fromRegion: request.fromRegion ?? fromRegion ?? request.toRegion,
    toRegion: request.toRegion,
    status,
  });
  const described = await control.describe(database);
  const standing = whereItStands(described, request.toRegion);
  if (standing) return result(standing.status, standing.fromRegion);
  if (request.check) {
    throw new SwitchoverNotInProgressError(
      `the writer of ${database} is ${described.writerRegion ?? 'nowhere'} and nothing is moving it to ${request.toRegion}: ` +
        'the move was cancelled (e.g. the secondary did not catch up in time), failed, or was never started; start it again',
    );
  }
  try {
    if (request.mode === 'switchover') await control.switchover(database, request.toRegion);
    else await control.failover(database, request.toRegion, { allowDataLoss: true });
  } catch (error) {
    // A concurrent or retried start may have begun the same move between the describe and this call.
    if (!(error instanceof GlobalDatabaseStateError)) throw error;
    const now = whereItStands(await control.describe(database), request.toRegion);
    if (!now) throw error;
    return result(now.status, now.fromRegion ?? described.writerRegion);
  }
  return result('IN_PROGRESS', described.writerRegion);
}

/** IN_PROGRESS/DONE when the writer is, or is on its way to, `toRegion`; undefined when nothing moves it there. */
function whereItStands(described: GlobalDatabaseDescription, toRegion: string): { status: DatabaseSwitchoverResult['status']; fromRegion: string | undefined } | undefined {
  const operation = described.operation;
  if (operation) {
    if (operation.toRegion === toRegion) return { status: 'IN_PROGRESS', fromRegion: operation.fromRegion };
    throw new ConflictingSwitchoverError(
      `${described.database} is in a ${operation.kind} from ${operation.fromRegion ?? '?'} to ${operation.toRegion ?? '?'}; wait for it before moving the writer to ${toRegion}`,
    );
  }
  if (described.writerRegion !== toRegion) return undefined;
  return { status: described.status === 'available' ? 'DONE' : 'IN_PROGRESS', fromRegion: undefined };
}
