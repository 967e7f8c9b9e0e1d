import { tradeMatchingHandler } from '#shared/pipeline/stage-functions.ts';

/** Trade matching in PostgreSQL: match, counterpart and outbox in one transaction; settlement results rolled up (DESIGN §3.3, §3.4). */
export const handler = await tradeMatchingHandler();
