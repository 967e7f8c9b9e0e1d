import { outboundGatewayHandler } from '#shared/pipeline/stage-functions.ts';

/** Outbound stream → the app's out queues, each message recorded before and after it is sent (DESIGN §2). */
export const handler = outboundGatewayHandler('trade-matching');
