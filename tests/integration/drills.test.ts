import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillResult } from '#local/drills/drill-result.ts';
import { plannedRotationDrill } from '#local/drills/planned-rotation.ts';
import { regionOutageDrill } from '#local/drills/region-outage.ts';

// The two drills `rotor drill` runs, each on a fresh twin of its own under a small steady load, judged by the
// invariants (nothing lost, nothing applied twice, the ledger balanced), never by timings: RTO and RPO are
// reported, and only their presence is checked here.

const LOAD = { rate: 4, warmUpSeconds: 8, afterSeconds: 5, verifyTimeoutSeconds: 240 };
const DRILL_MS = 600_000;

let root: string;
const progress: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'rotor-drills-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** On failure: which legs, what the drill noted, how the workflows ended, and its last words. */
const explain = (result: DrillResult) => JSON.stringify({ examples: result.examples, notes: result.notes, workflows: result.workflows }, null, 1) + '\n' + progress.slice(-40).join('\n');

describe('rotor drill', () => {
  it(
    'planned-rotation: both apps move to the other region under load; nothing lost or applied twice, RPO 0 by evidence, stores unchanged',
    async () => {
      // Act
      const result = await plannedRotationDrill({ ...LOAD, dataDir: path.join(root, 'planned'), progress: (message) => progress.push(message) });

      // Assess
      expect(result, explain(result)).toMatchObject({
        scenario: 'planned-rotation',
        ok: true,
        lost: 0,
        duplicates: 0,
        unexpected: 0,
        ledger_balanced: true,
        lost_after_recovery: 0,
        rpo_ms: 0,
      });
      expect(result.legs_sent).toBeGreaterThan(0);
      expect(result.workflows.map((run) => [run.state_machine, run.status])).toEqual([
        ['tm-rotation', 'SUCCEEDED'],
        ['sm-rotation', 'SUCCEEDED'],
      ]);
      expect(result.rto_ms).toBeGreaterThan(0);
    },
    DRILL_MS,
  );

  it(
    'region-outage: the active region is SIGKILLed, both apps recover in the survivor, and after failback every acknowledged leg is terminal',
    async () => {
      // Act
      const result = await regionOutageDrill({ ...LOAD, dataDir: path.join(root, 'outage'), failback: true, progress: (message) => progress.push(message) });

      // Assess
      expect(result, explain(result)).toMatchObject({
        scenario: 'region-outage',
        ok: true,
        lost: 0,
        duplicates: 0,
        unexpected: 0,
        ledger_balanced: true,
        lost_after_recovery: 0,
      });
      expect(result.workflows.map((run) => [run.state_machine, run.status])).toEqual([
        ['tm-disaster-recovery', 'SUCCEEDED'],
        ['sm-disaster-recovery', 'SUCCEEDED'],
      ]);
      expect(result.rto_ms).toBeGreaterThan(0);
      expect(result.rpo_ms).not.toBeNull();
      await access(result.report!);
      const report = JSON.parse(await readFile(result.report!, 'utf8')) as { failedRegion: string; activeRegion: string; missing: unknown[] };
      expect(report).toMatchObject({ failedRegion: 'us-east-1', activeRegion: 'us-west-2' });
      expect(Array.isArray(report.missing)).toBe(true);
      await access(result.report!.replace(/\.json$/, '.csv'));
    },
    DRILL_MS,
  );

  it(
    'region-outage --zero-rpo: with the TM inbound store replicated synchronously the survivor had every acknowledged leg at the kill (RPO 0)',
    async () => {
      // Act
      const result = await regionOutageDrill({ ...LOAD, dataDir: path.join(root, 'zero-rpo'), failback: true, zeroRpo: true, progress: (message) => progress.push(message) });

      // Assess
      expect(result, explain(result)).toMatchObject({
        scenario: 'region-outage',
        zero_rpo: true,
        ok: true,
        lost_before_recovery: 0,
        lost_after_recovery: 0,
        duplicates: 0,
        rpo_ms: 0,
      });
    },
    DRILL_MS,
  );
});
