import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosMatrixDrill, PROFILES, type ChaosMatrixResult } from '#local/chaos/matrix.ts';
import { badInputDrill } from '#local/chaos/bad-input.ts';

// `rotor drill chaos-matrix` in its CI profile: every experiment against one twin under load, each row judged by
// the invariants (verify, NACK reasons, failure and dead-letter queues, mapping lag), never by timings. Then the
// deliberately broken build, which the same judge must fail, and a bounded bad-input campaign.

const MATRIX_MS = 900_000;

let root: string;
const progress: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rotor-chaos-matrix-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const explain = (result: ChaosMatrixResult) => JSON.stringify(result.rows.filter((row) => !row.ok), null, 1) + '\n' + progress.slice(-40).join('\n');

describe('rotor drill chaos-matrix', () => {
  it(
    'ci profile: every experiment recovers with nothing lost, nothing applied twice, every NACK explained, no shard blocked',
    async () => {
      // Act
      const result = await chaosMatrixDrill({ dataDir: path.join(root, 'ci'), profile: 'ci', progress: (message) => progress.push(message) });

      // Assess
      expect(result.rows.map((row) => row.experiment)).toEqual(PROFILES.ci.experiments);
      expect(result.rows.filter((row) => !row.ok), explain(result)).toEqual([]);
      expect(result).toMatchObject({ ok: true, lost: 0, duplicates: 0, unexpected: 0, ledger_balanced: true });
      expect(result.legs_sent).toBeGreaterThan(0);
    },
    MATRIX_MS,
  );

  it(
    'a broken build (a stage acknowledging batches it never ran) is reported not ok, with the legs it lost',
    async () => {
      // Act
      const result = await chaosMatrixDrill({ dataDir: path.join(root, 'broken'), profile: 'ci', experiments: ['broken-skip-batch'], faultSeconds: 10, verifyTimeoutSeconds: 60, progress: (message) => progress.push(message) });

      // Assess
      expect(result.ok).toBe(false);
      expect(result.rows).toEqual([expect.objectContaining({ experiment: 'broken-skip-batch', ok: false })]);
      expect(result.rows[0]!.lost).toBeGreaterThan(0);
    },
    MATRIX_MS,
  );
});

describe('rotor drill bad-input', () => {
  it(
    'every fuzzed bad message is NACKed with its code and a reason while the valid load settles',
    async () => {
      // Act
      const result = await badInputDrill({ dataDir: path.join(root, 'bad-input'), messages: 300, seed: 11, rate: 2, drainTimeoutSeconds: 300, progress: (message) => progress.push(message) });

      // Assess
      expect(result, JSON.stringify({ ...result, codes: undefined }) + '\n' + progress.slice(-20).join('\n')).toMatchObject({
        ok: true,
        bad_sent: 300,
        bad_nacked: 300,
        bad_unanswered: 0,
        bad_wrong_code: 0,
        bad_without_reason: 0,
        valid: { lost: 0, duplicates: 0, unexpected: 0, ledger_balanced: true },
      });
    },
    MATRIX_MS,
  );
});
