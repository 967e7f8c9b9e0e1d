import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';
import { aBrokerLeg, anImLeg, bodyOf } from '#tests/factories/trade-legs.ts';

const run = promisify(execFile);
const ROTOR = join(import.meta.dirname, '../../bin/rotor.js');

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'rotor-cli-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('rotor simulate', () => {
  it('reads legs from standard input with --in - and prints the DESIGN §5 JSON', async () => {
    // Prepare
    const io = capturedIO(`${bodyOf(anImLeg())}\n${bodyOf(aBrokerLeg())}\n`);

    // Act
    const code = await main(['simulate', '--in', '-'], io);

    // Assess
    const result = JSON.parse(io.stdout());
    expect(code).toBe(0);
    expect(Object.keys(result)).toEqual(['trades', 'allocations', 'settlements', 'nacks', 'ledger']);
    expect(result.trades['QAINS012-QAINS012-QABRO010-4821937']).toBe('SETTLED');
    expect(result.ledger.balanced).toBe(true);
  });

  it('turns every malformed line of a file into a NACK with its line index instead of failing', async () => {
    // Prepare
    const file = join(workDir, 'mixed.jsonl');
    await writeFile(file, ['{"senderID":', bodyOf(anImLeg()), 'null', '\u0000garbage', bodyOf(aBrokerLeg())].join('\r\n'));
    const io = capturedIO();

    // Act
    const code = await main(['simulate', '--in', file], io);

    // Assess
    const result = JSON.parse(io.stdout());
    expect(code).toBe(0);
    expect(result.nacks.map((n: { index: number; code: string }) => [n.index, n.code])).toEqual([
      [0, 'MALFORMED_JSON'],
      [2, 'MALFORMED_JSON'],
      [3, 'MALFORMED_JSON'],
    ]);
    expect(Object.values(result.trades)).toEqual(['SETTLED', 'SETTLED']);
  });

  it('explains itself with --help', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['simulate', '--help'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.stdout()).toContain('Usage: rotor simulate --in FILE');
    expect(io.stdout()).toContain('"-" reads standard input');
  });

  it.each([
    [['simulate'], '--in FILE is required'],
    [['simulate', '--in', '-', '--bogus'], "Unknown option '--bogus'"],
    [['simulate', '--in', '-', '--fee-bps', 'two'], '--fee-bps must be a whole number'],
    [['generate', '--pairs', '10', '--truth', 't.json'], '--truth goes with --out'],
    [['generate', '--pairs', '10', '--rate', 'fast'], '--rate must be a number above 0'],
    [['generate', '--pairs', '1', '--rate', '5', '--out', 'x.jsonl'], '--rate applies to live runs'],
    [['submit'], '--in FILE is required'],
    [['verify', '--timeout', 'soon'], '--timeout must be a whole number'],
    [['generate', '--pairs', 'ten', '--out', 'x.jsonl'], '--pairs must be a whole number'],
    [['generate', '--pairs', '1', '--mix', '1:1', '--out', 'x.jsonl'], '--mix must be three'],
  ])('rejects %j with a usage error (exit 2) saying %s', async (argv, message) => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(argv, io);

    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toContain(message);
    expect(io.stdout()).toBe('');
  });

  it.each([
    [['generate', '--pairs', '10']],
    [['verify']],
    [['submit', '--in', '-']],
  ])('%j without a running twin says so and exits 1', async (argv) => {
    // Prepare
    const io = capturedIO('');

    // Act
    const code = await main([...argv, '--data-dir', join(workDir, 'no-twin-here')], io);

    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toMatch(/no twin|not running|rotor up/i);
  });

  it('rejects a --truth file that is not a ground-truth file, JSON or not, as a usage error', async () => {
    // Prepare
    const notJson = join(workDir, 'broken.truth.json');
    const notTruth = join(workDir, 'other.truth.json');
    await writeFile(notJson, '{"legs": ');
    await writeFile(notTruth, '{"legs": []}');
    const first = capturedIO(bodyOf(anImLeg()));
    const second = capturedIO(bodyOf(anImLeg()));

    // Act
    const codes = [await main(['simulate', '--in', '-', '--truth', notJson], first), await main(['simulate', '--in', '-', '--truth', notTruth], second)];

    // Assess
    expect(codes).toEqual([2, 2]);
    expect(first.stderr()).toContain('is not a ground-truth file from rotor generate');
    expect(second.stderr()).toContain('is not a ground-truth file from rotor generate');
  });

  it('reports a missing input file as an error (exit 1), not a crash', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['simulate', '--in', join(workDir, 'absent.jsonl')], io);

    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toMatch(/ENOENT/);
  });

  it('names an unknown command and lists the real ones', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['simulte'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toContain('unknown command "simulte"');
    expect(io.stderr()).toContain('simulate');
  });

  it('exits 1 and lists the disagreements when the outcome differs from the ground truth', async () => {
    // Prepare: a ground truth that expects the pair to settle, but the broker never sent its leg
    const legs = join(workDir, 'one.jsonl');
    const truth = join(workDir, 'one.truth.json');
    await main(['generate', '--pairs', '3', '--seed', '4', '--mix', '1:0:0', '--out', legs], capturedIO());
    const lines = (await readFile(legs, 'utf8')).trim().split('\n');
    await writeFile(legs, lines.slice(1).join('\n'));
    const io = capturedIO();

    // Act
    const code = await main(['simulate', '--in', legs, '--truth', truth], io);

    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toMatch(/ground truth: 4 of 6 legs agree/);
    expect(io.stderr()).toMatch(/expected SETTLED, got UNMATCHED/);
  });
});

describe('the rotor command after npm ci', () => {
  it('generates 1,000 pairs and simulates them into exact agreement with the ground truth, ledger balanced', async () => {
    // Prepare
    const legs = join(workDir, 'x.jsonl');
    await run(process.execPath, [ROTOR, 'generate', '--pairs', '1000', '--seed', '1', '--out', legs]);

    // Act
    const { stdout, stderr } = await run(process.execPath, [ROTOR, 'simulate', '--in', legs, '--truth', join(workDir, 'x.truth.json')], {
      maxBuffer: 64 * 1024 * 1024,
    });

    // Assess
    const result = JSON.parse(stdout);
    expect(stderr).toContain('ground truth: all 2000 legs agree; ledger balanced: true');
    expect(Object.keys(result.trades)).toHaveLength(2000);
    expect(result.nacks).toEqual([]);
    expect(result.ledger.balanced).toBe(true);
  });

  it('creates the folders it writes into', async () => {
    // Prepare
    const legs = join(workDir, 'nested', 'run-1', 'legs.jsonl');

    // Act
    const code = await main(['generate', '--pairs', '2', '--out', legs], capturedIO());

    // Assess
    expect(code).toBe(0);
    expect((await readFile(legs, 'utf8')).trim().split('\n')).toHaveLength(4);
    expect(JSON.parse(await readFile(join(workDir, 'nested', 'run-1', 'legs.truth.json'), 'utf8')).pairs).toBe(2);
  });

  it('writes the same file for the same seed', async () => {
    // Prepare
    const first = join(workDir, 'a.jsonl');
    const second = join(workDir, 'b.jsonl');

    // Act
    await main(['generate', '--pairs', '20', '--seed', '99', '--out', first], capturedIO());
    await main(['generate', '--pairs', '20', '--seed', '99', '--out', second], capturedIO());

    // Assess
    expect(await readFile(second, 'utf8')).toBe(await readFile(first, 'utf8'));
    expect(await readFile(join(workDir, 'b.truth.json'), 'utf8')).toBe(await readFile(join(workDir, 'a.truth.json'), 'utf8'));
  });
});
