import { describe, expect, it } from 'vitest';
import { GroupCommit } from '#local/global/dynamo-replication/group-commit.ts';

function deferred() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { released, release };
}

describe('GroupCommit', () => {
  it('runs a lone submission at once and groups what arrives while a run is in flight', async () => {
    // Prepare
    const runs: number[][] = [];
    const gate = deferred();
    const group = new GroupCommit<number, number>(async (inputs) => {
      runs.push(inputs);
      if (runs.length === 1) await gate.released;
      return inputs.map((input) => input * 10);
    });

    // Act
    const first = group.submit([1]);
    const second = group.submit([2, 3]);
    const third = group.submit([4]);
    gate.release();
    const answers = await Promise.all([first, second, third]);

    // Assess
    expect(runs).toEqual([[1], [2, 3, 4]]);
    expect(answers).toEqual([[10], [20, 30], [40]]);
  });

  it('fails every submission of a failed run, and runs the next group all the same', async () => {
    // Prepare
    const gate = deferred();
    let calls = 0;
    const group = new GroupCommit<string, string>(async (inputs) => {
      calls++;
      if (calls === 1) await gate.released;
      if (calls === 2) throw new Error('dynalite went away');
      return inputs;
    });

    // Act
    const first = group.submit(['a']);
    const failing = [group.submit(['b']), group.submit(['c'])].map((pending) => pending.catch((error: Error) => error.message));
    gate.release();
    await first;
    const failures = await Promise.all(failing);
    const afterwards = await group.submit(['d']);

    // Assess
    expect(failures).toEqual(['dynalite went away', 'dynalite went away']);
    expect(afterwards).toEqual(['d']);
  });
});
