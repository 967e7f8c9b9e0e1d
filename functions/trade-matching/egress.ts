import { egressHandler } from '#shared/pipeline/stage-functions.ts';

/** Matching's events and ingestion's NACKs → the messages the outbound gateway sends (DESIGN §2, §3.4). */
export const handler = egressHandler('trade-matching');
