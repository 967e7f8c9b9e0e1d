import type { Generated } from 'kysely';

/**
 * The outbox both apps write in the same transaction as their state change (DESIGN §3.3), and a relay forwards.
 *
 * Ids come from `outbox_next_id()` rather than a plain `bigserial` default: on an Aurora Global Database
 * secondary, rows arrive through replication with their ids but the local sequence never advances, so after a
 * promotion a plain default would hand out ids the table already holds. The function draws from the sequence
 * until it passes the highest stored id. It only ever calls `nextval` (never `setval`), so concurrent writers can
 * never receive the same id; the catch-up loop runs once, on the first insert after a promotion.
 *
 * `OUTBOX_IDS_PAST_A_LOST_TAIL` (migration 0002) replaces that catch-up: ids jump `OUTBOX_ID_GAP_AFTER_PROMOTION`
 * past the highest stored id. After a failover, the old writer's unreplicated tail had already used the ids just
 * past the replicated rows, and the matching safe stores (global tables) may hold that tail's states versioned by
 * those ids; reusing them would make the new writer's later states look older there and be ignored.
 */
export const OUTBOX_STATEMENTS: readonly string[] = [
  `create sequence if not exists outbox_id_seq`,
  `create or replace function outbox_next_id() returns bigint language plpgsql volatile as $body$
   declare
     highest bigint;
     candidate bigint;
   begin
     select coalesce(max(id), 0) into highest from outbox;
     candidate := nextval('outbox_id_seq');
     while candidate <= highest loop
       candidate := nextval('outbox_id_seq');
     end loop;
     return candidate;
   end
   $body$`,
  `create table if not exists outbox (
     id bigint primary key default outbox_next_id(),
     aggregate_id text not null,
     event_type text not null,
     payload jsonb not null,
     created_at timestamptz not null default now(),
     relayed_at timestamptz
   )`,
  `alter sequence outbox_id_seq owned by outbox.id`,
  `create index if not exists outbox_unrelayed on outbox (id) where relayed_at is null`,
  `create index if not exists outbox_aggregate on outbox (aggregate_id, id)`,
];

/** Far more outbox rows than an Aurora Global Database writes within its replication lag (well under a second). */
export const OUTBOX_ID_GAP_AFTER_PROMOTION = 1_000_000;

export const OUTBOX_IDS_PAST_A_LOST_TAIL: readonly string[] = [
  // The advisory lock makes the jump happen once when several writers take their first id at the same time: a
  // writer that waited finds the sequence already past the stored rows and simply draws the next id.
  `create or replace function outbox_next_id() returns bigint language plpgsql volatile as $body$
   declare
     highest bigint;
     candidate bigint;
   begin
     select coalesce(max(id), 0) into highest from outbox;
     candidate := nextval('outbox_id_seq');
     if candidate <= highest then
       perform pg_advisory_xact_lock(hashtext('outbox_id_seq'));
       if (select last_value from outbox_id_seq) <= highest then
         perform setval('outbox_id_seq', highest + ${OUTBOX_ID_GAP_AFTER_PROMOTION});
       end if;
       candidate := nextval('outbox_id_seq');
     end if;
     return candidate;
   end
   $body$`,
];

export interface OutboxTable {
  id: Generated<string>;
  aggregate_id: string;
  event_type: string;
  payload: unknown;
  created_at: Generated<Date>;
  relayed_at: Date | null;
}
