import { sql, type RawBuilder } from 'kysely';

/**
 * A value for a jsonb column, sent as text and cast in SQL: the `pg` driver and PGlite serialise object parameters
 * differently (PGlite stringifies again what is already JSON text), while a text parameter means the same to both.
 */
export function jsonb<T>(value: T): RawBuilder<T> {
  return sql<T>`cast(${JSON.stringify(value)}::text as jsonb)`;
}
