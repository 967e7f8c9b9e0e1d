import { settlementMatchingHandler } from '#shared/pipeline/stage-functions.ts';

/** Settlement pairing in PostgreSQL: pairing, ledger and outbox in one transaction (DESIGN §3.4, §3.5). */
export const handler = await settlementMatchingHandler();
