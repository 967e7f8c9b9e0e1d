import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStateMachineRunner } from '#local/stepfunctions/runner.ts';

/**
 * An execution that fails before its history is first written to disk still ends FAILED, recorded, and without an
 * unhandled rejection (which would take the whole twin down).
 */

describe('local Step Functions: an execution that fails at once', () => {
  it('is FAILED with its error, and its history is kept', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-sfn-'));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const runner = await createStateMachineRunner({
        definition: { StartAt: 'Refuse', States: { Refuse: { Type: 'Fail', Error: 'Rotation.SourceNotActive', Cause: 'nothing changed' } } },
        stateMachineName: 'immediate',
        handlers: {},
        dataDir,
      });

      // Act
      const execution = await runner.start({}, { name: 'first' });
      const record = await execution.done;
      await new Promise((resolve) => setTimeout(resolve, 50));
      await runner.close();
      const reloaded = await createStateMachineRunner({
        definition: { StartAt: 'Refuse', States: { Refuse: { Type: 'Fail', Error: 'Rotation.SourceNotActive', Cause: 'nothing changed' } } },
        stateMachineName: 'immediate',
        handlers: {},
        dataDir,
      });

      // Assess
      expect(record).toMatchObject({ status: 'FAILED', error: 'Rotation.SourceNotActive' });
      expect(reloaded.describe('first')).toMatchObject({ status: 'FAILED', error: 'Rotation.SourceNotActive' });
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
