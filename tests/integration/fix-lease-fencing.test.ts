import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { DynamoDbLeaseStore } from '#shared/fix/dynamodb-lease-store.ts';
import { DynamoDbSessionStore } from '#shared/fix/dynamodb-session-store.ts';
import { DynamoDbFixLegStore, type FixLegItem } from '#shared/fix/leg-store.ts';
import { FencedOutError, SessionStateConflictError } from '#shared/fix/ports.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let dynalite: DynaliteHarness;
let tables = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(() => dynalite.close());

async function freshTable(): Promise<string> {
  const name = `fix-${++tables}`;
  await dynalite.createTable(name);
  return name;
}

describe('the FIX leader lease and its fencing epoch, on dynalite', () => {
  it('admits one holder at a time and gives every new holder a larger epoch', async () => {
    // Prepare
    let clock = 1_000_000;
    const leases = new DynamoDbLeaseStore(documentClient(dynalite.client()), await freshTable(), () => clock);

    // Act
    const first = await leases.acquire('us-east-1', 'gw-a', '127.0.0.1:1', 2_000);
    const contested = await leases.acquire('us-east-1', 'gw-b', '127.0.0.1:2', 2_000);
    clock += 2_001;
    const second = await leases.acquire('us-east-1', 'gw-b', '127.0.0.1:2', 2_000);
    const staleRenewal = await leases.renew(first!, 2_000);
    const otherRegion = await leases.acquire('us-west-2', 'gw-c', '127.0.0.1:3', 2_000);

    // Assess
    expect(first).toMatchObject({ holder: 'gw-a', epoch: 1 });
    expect(contested).toBeUndefined();
    expect(second).toMatchObject({ holder: 'gw-b', epoch: 2, address: '127.0.0.1:2' });
    expect(staleRenewal).toBeUndefined();
    expect(otherRegion).toMatchObject({ epoch: 1 });
    expect(await leases.current('us-east-1')).toMatchObject({ holder: 'gw-b', epoch: 2 });
  });

  it('renews while held, and a released lease is free at once', async () => {
    // Prepare
    let clock = 5_000_000;
    const leases = new DynamoDbLeaseStore(documentClient(dynalite.client()), await freshTable(), () => clock);
    const held = (await leases.acquire('us-east-1', 'gw-a', 'a:1', 2_000))!;

    // Act
    clock += 1_500;
    const renewed = await leases.renew(held, 2_000);
    clock += 1_500;
    const whileRenewed = await leases.acquire('us-east-1', 'gw-b', 'b:1', 2_000);
    await leases.release(renewed!);
    const afterRelease = await leases.acquire('us-east-1', 'gw-b', 'b:1', 2_000);

    // Assess
    expect(renewed?.expiresAt).toBe(5_000_000 + 3_500);
    expect(whileRenewed).toBeUndefined();
    expect(afterRelease).toMatchObject({ holder: 'gw-b', epoch: 2 });
  });

  it('refuses every session write of a deposed epoch once the new leader has claimed the session', async () => {
    // Prepare
    const sessions = new DynamoDbSessionStore(documentClient(dynalite.client()), await freshTable());
    await sessions.claim('IMQAINS012', 1);
    await sessions.update('IMQAINS012', 1, { nextSenderSeq: 1 }, { nextSenderSeq: 2 });
    await sessions.storeOutbound('IMQAINS012', 1, { seq: 1, msgType: 'P', body: [[70, 'A1']], sendingTime: '20261207-10:00:00.000' });

    // Act
    const resumed = await sessions.claim('IMQAINS012', 2);
    const staleUpdate = await sessions.update('IMQAINS012', 1, { nextSenderSeq: 2 }, { nextSenderSeq: 3 }).catch((error: unknown) => error);
    const staleStore = await sessions.storeOutbound('IMQAINS012', 1, { seq: 1, msgType: 'P', body: [[70, 'OVERWRITE']], sendingTime: '20261207-10:00:01.000' }).catch((error: unknown) => error);
    const staleClaim = await sessions.claim('IMQAINS012', 1).catch((error: unknown) => error);

    // Assess
    expect(resumed).toEqual({ nextSenderSeq: 2, nextTargetSeq: 1 });
    expect(staleUpdate).toBeInstanceOf(FencedOutError);
    expect(staleStore).toBeInstanceOf(FencedOutError);
    expect(staleClaim).toBeInstanceOf(FencedOutError);
    expect(sessions.refused).toBe(3);
    expect(await sessions.outbound('IMQAINS012', 1, 5)).toEqual([{ seq: 1, msgType: 'P', body: [[70, 'A1']], sendingTime: '20261207-10:00:00.000' }]);
  });

  it('tells a sequence race from a stale epoch', async () => {
    // Prepare
    const sessions = new DynamoDbSessionStore(documentClient(dynalite.client()), await freshTable());
    await sessions.claim('BRQABRO010', 3);

    // Act
    const race = sessions.update('BRQABRO010', 3, { nextTargetSeq: 7 }, { nextTargetSeq: 8 });

    // Assess
    await expect(race).rejects.toBeInstanceOf(SessionStateConflictError);
    expect(sessions.refused).toBe(0);
  });

  it('stores a leg once per (SenderCompID, AllocID) and refuses a stale epoch marking it forwarded', async () => {
    // Prepare
    const legs = new DynamoDbFixLegStore(documentClient(dynalite.client()), await freshTable());
    const item: FixLegItem = { id: 'fix:IMQAINS012:A1', kind: 'fix-leg', senderCompId: 'IMQAINS012', allocId: 'A1', tradeId: 'T', body: '{"a":1}', epoch: 1, forwarded: false, receivedAt: 'now' };

    // Act
    const first = await legs.putIfAbsent(item);
    const again = await legs.putIfAbsent({ ...item, body: '{"a":2}', epoch: 2 });
    await legs.markForwarded(item.id, 2);
    const stale = legs.markForwarded(item.id, 1);

    // Assess
    expect(first).toEqual({ stored: true });
    expect(again).toMatchObject({ stored: false, existing: { body: '{"a":1}', epoch: 1 } });
    await expect(stale).rejects.toBeInstanceOf(FencedOutError);
    expect(await legs.unforwarded()).toEqual([]);
    expect((await legs.all()).map((leg) => leg.id)).toEqual(['fix:IMQAINS012:A1']);
  });
});
