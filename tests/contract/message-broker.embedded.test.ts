/**
 * The message-broker contract against the twin's embedded STOMP broker, plus what only the embedded broker
 * promises on its own: surviving SIGKILL, its own delivery limit, and STOMP-level errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { type RunningStompBroker, startStompBroker } from '#local/mq/stomp-broker.ts';
import { messageBrokerContract } from './message-broker.contract.ts';

describe('message broker contract: embedded STOMP broker', () => {
  let dataDir: string;
  let broker: RunningStompBroker;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-mq-contract-'));
    broker = await startStompBroker({ dataDir, port: 0 });
  });

  afterAll(async () => {
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  messageBrokerContract({
    url: () => broker.url,
    maxDeliveries: 6,
    async restart() {
      await broker.close();
      broker = await startStompBroker({ dataDir, port: 0 });
    },
  });
});
