import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { openDatabaseFromConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { DynamoDbGeneratorRuns } from '#shared/load/dynamodb-generator-runs.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { verifyProgress, verifyRuns, type VerifyProgress, type VerifyResult } from '#shared/verification/verify-run.ts';

/** `rotor verify` in the region it runs in: this region's stores against the generator's ground truth. */

const VerifyEvent = z.strictObject({
  cutoff: z.record(z.string(), z.int().nonnegative()).optional(),
  /** Only how far the legs have got (`VerifyProgress`), at a sixth of a verdict's reads. */
  progress: z.boolean().optional(),
});

const documents = documentClient(new DynamoDBClient({}));
const [tradeMatching, settlement] = await Promise.all([
  openDatabaseFromConnectionString<TradeMatchingDatabase>(requiredEnv('TM_DATABASE')),
  openDatabaseFromConnectionString<SettlementDatabase>(requiredEnv('SM_DATABASE')),
]);

export const handler = async (event: unknown): Promise<VerifyResult | VerifyProgress> => {
  const request = VerifyEvent.parse(event ?? {});
  const judge = request.progress ? verifyProgress : verifyRuns;
  return judge(request.cutoff ? { cutoff: request.cutoff } : {}, {
    runs: new DynamoDbGeneratorRuns(documents, requiredEnv('GENERATOR_RUNS_TABLE')),
    documents,
    tables: {
      tmInbound: requiredEnv('TM_INBOUND_STORE'),
      tmMatching: requiredEnv('TM_MATCHING_STORE'),
      tmOutbound: requiredEnv('TM_OUTBOUND_STORE'),
      smMatching: requiredEnv('SM_MATCHING_STORE'),
      smOutbound: requiredEnv('SM_OUTBOUND_STORE'),
    },
    tradeMatching: tradeMatching.db,
    settlement: settlement.db,
  });
};
