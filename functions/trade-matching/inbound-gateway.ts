import { inboundGatewayHandler } from '#shared/pipeline/stage-functions.ts';

/** MQ → in-gateway safe store → ingestion stream (DESIGN §2). */
export const handler = inboundGatewayHandler('trade-matching');
