import { ingestionHandler } from '#shared/pipeline/stage-functions.ts';

/** Validates what the gateway recorded: valid records to matching, NACKs to egress (DESIGN §2, §3.1). */
export const handler = ingestionHandler('settlement');
