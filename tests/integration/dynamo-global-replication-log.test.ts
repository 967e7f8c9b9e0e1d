import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicationLog } from '#local/global/dynamo-replication/replication-log.ts';
import type { UnsequencedChange } from '#local/global/dynamo-replication/item-change.ts';
import { removeRoot, temporaryRoot } from '#tests/support/dynamo-global-regions.ts';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await removeRoot(root);
});

const change = (trade: number): UnsequencedChange => ({
  table: 'rotor-tm-ingestion-store',
  key: { pk: { S: `TRADE#${trade}` } },
  image: { pk: { S: `TRADE#${trade}` } },
  writeTimeMs: Date.now(),
  originRegion: 'us-east-1',
});

describe('replication log on disk (the origin side of a global-table replication stream)', () => {
  it('drops what every peer has, keeps sequence numbers rising across compaction and reopen', async () => {
    // Prepare
    const dataDir = await temporaryRoot();
    roots.push(dataDir);
    const log = await ReplicationLog.open(dataDir);
    await log.registerPeer('us-west-2');
    await log.registerPeer('eu-west-1');

    // Act
    for (let batch = 0; batch < 30; batch++) await log.append(Array.from({ length: 100 }, (_, index) => change(batch * 100 + index)));
    await log.markShipped('us-west-2', 2_900);
    await log.markShipped('eu-west-1', 2_500);
    await log.close();
    const reopened = await ReplicationLog.open(dataDir);
    const [next] = await reopened.append([change(9_999)]);
    const onDisk = (await readFile(join(dataDir, 'replication.log'), 'utf8')).trim().split('\n');
    await reopened.close();

    // Assess
    expect(reopened.retained()[0]?.seq).toBe(2_501);
    expect(reopened.backlogFor('us-west-2')).toHaveLength(101);
    expect(reopened.backlogFor('eu-west-1')).toHaveLength(501);
    expect(next?.seq).toBe(3_001);
    expect(onDisk).toHaveLength(501);
  });

  it('ignores a line torn by a crash mid-append (never acknowledged) and keeps every complete one', async () => {
    // Prepare
    const dataDir = await temporaryRoot();
    roots.push(dataDir);
    const log = await ReplicationLog.open(dataDir);
    await log.append([change(1), change(2)]);
    await log.close();
    await appendFile(join(dataDir, 'replication.log'), '{"seq":3,"table":"rotor-tm-in');

    // Act
    const reopened = await ReplicationLog.open(dataDir);
    const [next] = await reopened.append([change(3)]);
    await reopened.close();

    // Assess
    expect(reopened.retained().map((entry) => entry.seq)).toEqual([1, 2, 3]);
    expect(next?.key).toEqual({ pk: { S: 'TRADE#3' } });
  });
});
