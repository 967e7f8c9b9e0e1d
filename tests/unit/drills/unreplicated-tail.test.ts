import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { saveRoleState } from '#local/global/aurora/role-state.ts';
import { unreplicatedTail } from '#local/drills/missing-transactions.ts';

// The failback report itemises the old Aurora writer's unreplicated tail from the role files the twin keeps.

const FAILED_AT = Date.parse('2026-12-07T14:27:08.000Z');
let dataDir: string;

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const change = (lsn: number, table: string, row: Record<string, unknown>) => ({
  lsn,
  txid: `tx-${lsn}`,
  table,
  op: 'INSERT' as const,
  primaryKey: { id: row.id },
  row,
  capturedAt: '2026-12-07T14:27:07.900Z',
});

describe('the unreplicated tail in the missing-transaction report', () => {
  it('lists each row change the old writer made after the promotion point, with its key and state, for the failed region since the failure', async () => {
    // Prepare
    dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-tail-'));
    await mkdir(path.join(dataDir, 'aurora'));
    await saveRoleState(path.join(dataDir, 'aurora', 'tm-db.aurora-roles.json'), {
      writer: 'us-west-2',
      generation: 2,
      detached: {},
      unreplicatedTails: [
        { region: 'us-east-1', promotionLsn: 40, recordedAt: '2026-12-07T14:20:00.000Z', changes: [change(12, 'public.trades', { id: 'OLDER', status: 'UNMATCHED' })] },
        {
          region: 'us-east-1',
          promotionLsn: 80,
          recordedAt: '2026-12-07T14:27:36.000Z',
          changes: [change(81, 'public.trades', { id: 'PIMCO22-PIMCO22-CITI0004-S14xrr21P1s', status: 'MATCHED' }), change(82, 'public.outbox', { id: '93', event_type: 'trade.matched' })],
        },
      ],
    });

    // Act
    const tail = await unreplicatedTail(dataDir, [{ name: 'tm-db' }, { name: 'sm-db' }], 'us-east-1', FAILED_AT);

    // Assess
    expect(tail).toEqual([
      { database: 'tm-db', table: 'public.trades', op: 'INSERT', key: 'PIMCO22-PIMCO22-CITI0004-S14xrr21P1s', state: 'MATCHED', capturedAt: '2026-12-07T14:27:07.900Z' },
      { database: 'tm-db', table: 'public.outbox', op: 'INSERT', key: '93', state: 'trade.matched', capturedAt: '2026-12-07T14:27:07.900Z' },
    ]);
  });
});
