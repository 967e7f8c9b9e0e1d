import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { RoutingGate } from '#shared/adapters/arc/routing-gate.ts';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { DynamoDbGeneratorRuns } from '#shared/load/dynamodb-generator-runs.ts';
import { GeneratorRequest, runGenerator, type GeneratorResult } from '#shared/load/generator-run.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { regionalRoutingControlName } from '#shared/ports/routing-controls.ts';

/** The load generator (DESIGN §3.6): a seeded run of legs to the trade-matching queue, while `generator` is On. */

const GENERATOR_CONTROL = 'trade-matching-generator';
const broker = new StompMessageBroker({ url: requiredEnv('MQ_BROKER_URL') });
const runs = new DynamoDbGeneratorRuns(documentClient(new DynamoDBClient({})), requiredEnv('GENERATOR_RUNS_TABLE'));
const gate = RoutingGate.fromEnvironment();

export const handler = async (event: unknown, context: Context): Promise<GeneratorResult> =>
  runGenerator(GeneratorRequest.parse(event), {
    broker,
    queue: requiredEnv('OUT_QUEUE'),
    runs,
    mayGenerate: async () => (gate ? gate.isOn(GENERATOR_CONTROL) : true),
    servesHere: async () => (gate && process.env.AWS_REGION ? gate.isOn(regionalRoutingControlName('trade-matching-dns', process.env.AWS_REGION)) : true),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
