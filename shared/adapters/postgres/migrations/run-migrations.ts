import { Migrator, sql, type Kysely, type Migration, type MigrationResult } from 'kysely';

/**
 * Runs an app's migrations with kysely's `Migrator` from migrations held in code: no directory is read at run
 * time, so the same code works bundled into a Lambda function and on the twin.
 *
 * Every migration is a list of idempotent statements (`create … if not exists`, `create or replace`). The twin's
 * Aurora Global Database runs the same statements as its `schema` on every region as it opens, and a database set
 * up that way can still be migrated afterwards without an error.
 */

export interface StatementMigration {
  /** Sorts the migrations: `0001_…`, `0002_…`. */
  readonly name: string;
  readonly statements: readonly string[];
}

export class MigrationFailedError extends Error {
  override readonly name = 'MigrationFailedError';
  constructor(app: string, failed: MigrationResult | undefined, cause: unknown) {
    super(
      `the ${app} database could not be migrated${failed ? ` (migration ${failed.migrationName} failed)` : ''}: ` +
        (cause instanceof Error ? cause.message : String(cause)),
      { cause },
    );
  }
}

export interface MigrationTables {
  /** Each app keeps its own migration history, so both apps can share one database when that suits a test or a laptop. */
  readonly migrationTableName: string;
  readonly migrationLockTableName: string;
}

export async function runStatementMigrations(
  db: Kysely<any>,
  app: string,
  migrations: readonly StatementMigration[],
  tables: MigrationTables,
): Promise<readonly MigrationResult[]> {
  const migrator = new Migrator({
    db,
    provider: {
      getMigrations: async () => Object.fromEntries(migrations.map((migration) => [migration.name, toKysely(migration)])),
    },
    ...tables,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) throw new MigrationFailedError(app, results.find((r) => r.status === 'Error'), error);
  return results;
}

function toKysely(migration: StatementMigration): Migration {
  return {
    up: async (db) => {
      for (const statement of migration.statements) await sql.raw(statement).execute(db);
    },
  };
}

/** Every statement of every migration in order: what an Aurora Global Database's `schema` option takes. */
export const schemaStatements = (migrations: readonly StatementMigration[]): readonly string[] =>
  migrations.flatMap((migration) => migration.statements);
