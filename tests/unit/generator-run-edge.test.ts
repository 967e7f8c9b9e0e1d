import { describe, expect, it } from 'vitest';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { legsOfRun, runGenerator, type GeneratorRun } from '#shared/load/generator-run.ts';

/**
 * A paced generator run follows the edge: once its region stops serving trade matching (a rotation or recovery moved
 * the dns control), it stops after the legs already sent, and the run's record says how many, so verify judges
 * exactly those.
 */

function recordingBroker(): MessageBroker & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: async (_queue, body) => {
      sent.push(body);
    },
    consume: () => Promise.reject(new Error('not used')),
    queueDepth: async () => 0,
    close: async () => undefined,
  };
}

describe('generator run', () => {
  it('stops with region-not-active once its region no longer serves, having sent a prefix of the run', async () => {
    // Prepare
    const broker = recordingBroker();
    const saved: GeneratorRun[] = [];
    let clock = 0;
    let checks = 0;

    // Act
    const result = await runGenerator(
      { rate: 4, durationSeconds: 10, seed: 5 },
      {
        broker,
        queue: 'tm.trades',
        runs: { save: async (run) => void saved.push({ ...run }), all: async () => saved },
        mayGenerate: async () => true,
        servesHere: async () => ++checks <= 3,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    );

    // Assess
    expect(result.stoppedBy).toBe('region-not-active');
    expect(result.legsSent).toBe(12);
    expect(broker.sent).toHaveLength(12);
    const last = saved.at(-1)!;
    expect(last.legsSent).toBe(12);
    expect(legsOfRun(last).map((leg) => JSON.stringify(leg.leg))).toEqual(broker.sent);
  });
});
