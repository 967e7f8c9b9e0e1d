import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { documentClient, DynamoDbSafeStore, MAX_ITEM_JSON_BYTES } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { SafeStoreItemNotFoundError, SafeStoreItemTooLargeError } from '#shared/adapters/dynamodb/errors.ts';
import { SafeStoreUnavailableError, type SafeStoreItem } from '#shared/ports/safe-store.ts';
import { startAwsFaultProxy, type AwsFault, type AwsFaultProxy } from '#tests/support/aws-fault-proxy.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

interface StageRecord extends SafeStoreItem {
  readonly id: string;
  readonly status?: string;
  readonly version?: number;
  readonly [attribute: string]: unknown;
}

let dynalite: DynaliteHarness;
let proxy: AwsFaultProxy | undefined;
let tableCount = 0;

beforeAll(async () => {
  dynalite = await startDynalite();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(() => dynalite.close());

/** A fresh table per test, so no test sees another's items. */
async function freshStore(endpoint?: string) {
  const table = `safe-store-${++tableCount}`;
  await dynalite.createTable(table);
  // Competing writes go straight to the emulator, past any fault proxy in front of the store.
  const direct = documentClient(dynalite.client());
  const store = new DynamoDbSafeStore<StageRecord>(documentClient(dynalite.client(endpoint)), table, { now: () => new Date(RECORDED_AT) });
  return { table, direct, store };
}

async function storeBehindProxy() {
  proxy = await startAwsFaultProxy(dynalite.emulator.endpoint);
  return { proxy, ...(await freshStore(proxy.endpoint)) };
}

const received = (id: string, extra: Record<string, unknown> = {}): StageRecord => ({ id, status: 'RECEIVED', ...extra });

/** The time the stores' clock gives every write; an item as stored carries it as `recordedAt`. */
const RECORDED_AT = '2025-01-02T03:04:00.000Z';
const recorded = (item: StageRecord): StageRecord => ({ ...item, recordedAt: RECORDED_AT });

describe('DynamoDbSafeStore: conditional writes', () => {
  test('putIfAbsent stores a plain JSON record as given (decimal strings, nesting, nulls, empties) and drops undefined fields', async () => {
    // Prepare
    const { store } = await freshStore();
    const record = received('TM-1', {
      quantity: '1500000',
      price: '101.2345678901234567890123',
      legs: [{ side: 'BUY', allocations: [{ id: 'A1', quantity: '750000' }, { id: 'A2', quantity: '750000' }] }],
      accepted: true,
      attempts: 3,
      note: '',
      tags: [],
      extra: {},
      rejectedReason: null,
      settledAt: undefined,
    });

    // Act
    const result = await store.putIfAbsent(record);
    const stored = await store.get('TM-1');

    // Assess
    expect(result).toEqual({ stored: true });
    const { settledAt: _dropped, ...expected } = record;
    expect(stored).toEqual(recorded(expected));
    expect(stored).not.toHaveProperty('settledAt');
  });

  test('putIfAbsent of an id already stored leaves the stored item alone and resolves it', async () => {
    // Prepare
    const { store } = await freshStore();
    await store.putIfAbsent(received('TM-2', { source: 'first' }));

    // Act
    const result = await store.putIfAbsent(received('TM-2', { source: 'redelivery' }));

    // Assess
    expect(result).toEqual({ stored: false, existing: recorded(received('TM-2', { source: 'first' })) });
    expect(await store.get('TM-2')).toEqual(recorded(received('TM-2', { source: 'first' })));
  });

  test('of racing putIfAbsent calls for one id exactly one stores, and every other one resolves the winner', async () => {
    // Prepare
    const { store } = await freshStore();
    const contenders = Array.from({ length: 12 }, (_, index) => received('TM-3', { contender: index }));

    // Act
    const results = await Promise.all(contenders.map((contender) => store.putIfAbsent(contender)));

    // Assess
    const winners = results.filter((result) => result.stored);
    expect(winners).toHaveLength(1);
    const stored = await store.get('TM-3');
    expect(contenders.map(recorded)).toContainEqual(stored);
    for (const result of results) if (!result.stored) expect(result.existing).toEqual(stored);
  });

  test('putIfAbsent puts again when the item that refused it is deleted before it can be read', async () => {
    // Prepare
    const { proxy, table, direct, store } = await storeBehindProxy();
    await store.putIfAbsent(received('TM-4', { source: 'expiring' }));
    proxy.beforeNext('GetItem', () => direct.send(new DeleteCommand({ TableName: table, Key: { id: 'TM-4' } })));

    // Act
    const result = await store.putIfAbsent(received('TM-4', { source: 'redelivery' }));

    // Assess
    expect(result).toEqual({ stored: true });
    expect(await store.get('TM-4')).toEqual(recorded(received('TM-4', { source: 'redelivery' })));
    expect(proxy.requests('PutItem')).toBe(3);
  });

  test('putIfAbsent gives up as unavailable when the competing item vanishes twice', async () => {
    // Prepare
    const { proxy, table, direct, store } = await storeBehindProxy();
    await store.putIfAbsent(received('TM-5'));
    const remove = () => direct.send(new DeleteCommand({ TableName: table, Key: { id: 'TM-5' } }));
    proxy.beforeNext('GetItem', remove);
    proxy.beforeNext('PutItem', () => direct.send(new PutCommand({ TableName: table, Item: received('TM-5') })), { skip: 1 });
    proxy.beforeNext('GetItem', remove, { skip: 1 });

    // Act
    const error = await store.putIfAbsent(received('TM-5', { source: 'redelivery' })).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SafeStoreUnavailableError);
    expect(proxy.requests('PutItem')).toBe(3);
    expect(proxy.requests('GetItem')).toBe(2);
    expect(await store.get('TM-5')).toBeUndefined();
  });

  test('putIfNewer lands status transitions in version order even when they arrive out of order', async () => {
    // Prepare
    const { store } = await freshStore();
    const version = (n: number, status: string) => ({ id: 'TM-6', status, version: n });

    // Act
    const written = [
      await store.putIfNewer(version(1, 'RECEIVED')),
      await store.putIfNewer(version(3, 'SETTLED')),
      await store.putIfNewer(version(2, 'MATCHED')),
      await store.putIfNewer(version(3, 'SETTLED-AGAIN')),
      await store.putIfNewer(version(4, 'REPORTED')),
    ];

    // Assess
    expect(written).toEqual([true, true, false, false, true]);
    expect(await store.get('TM-6')).toEqual(recorded(version(4, 'REPORTED')));
  });

  test('putIfNewer never replaces an item stored without a version', async () => {
    // Prepare
    const { store } = await freshStore();
    await store.putIfAbsent(received('TM-7'));

    // Act
    const written = await store.putIfNewer({ id: 'TM-7', status: 'MATCHED', version: 1 });

    // Assess
    expect(written).toBe(false);
    expect(await store.get('TM-7')).toEqual(recorded(received('TM-7')));
  });

  test('every write records when it was made, unless the item already says so', async () => {
    // Prepare
    const { store } = await freshStore();
    const copied = received('TM-12', { recordedAt: '2024-12-31T23:59:59.000Z' });

    // Act
    await store.putIfAbsent(received('TM-13'));
    await store.putIfAbsent(copied);
    await store.putIfNewer({ id: 'TM-14', status: 'MATCHED', version: 1 });

    // Assess
    expect((await store.get('TM-13'))?.recordedAt).toBe(RECORDED_AT);
    expect(await store.get('TM-12')).toEqual(copied);
    expect((await store.get('TM-14'))?.recordedAt).toBe(RECORDED_AT);
  });

  test('get of an id never stored resolves undefined', async () => {
    // Prepare
    const { store } = await freshStore();

    // Act
    const missing = await store.get('TM-404');

    // Assess
    expect(missing).toBeUndefined();
  });
});

describe('DynamoDbSafeStore: deliveries', () => {
  test('recordDelivery counts deliveries and keeps the time of the last one, leaving the record itself alone', async () => {
    // Prepare
    const { store } = await freshStore();
    await store.putIfAbsent(received('TM-8', { quantity: '10' }));

    // Act
    const first = await store.recordDelivery('TM-8', '2025-01-02T03:04:05.000Z');
    const second = await store.recordDelivery('TM-8', '2025-01-02T03:04:06.000Z');

    // Assess
    expect([first, second]).toEqual([1, 2]);
    expect(await store.get('TM-8')).toEqual(recorded(received('TM-8', { quantity: '10', deliveries: 2, deliveredAt: '2025-01-02T03:04:06.000Z' })));
  });

  test('concurrent recordDelivery calls each count once', async () => {
    // Prepare
    const { store } = await freshStore();
    await store.putIfAbsent(received('TM-9'));

    // Act
    const counts = await Promise.all(Array.from({ length: 8 }, () => store.recordDelivery('TM-9', '2025-01-02T00:00:00.000Z')));

    // Assess
    expect([...counts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('recordDelivery of an unknown id is a SafeStoreItemNotFoundError and creates nothing', async () => {
    // Prepare
    const { store } = await freshStore();

    // Act
    const error = await store.recordDelivery('TM-unknown', '2025-01-02T00:00:00.000Z').catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SafeStoreItemNotFoundError);
    expect(error).toMatchObject({ id: 'TM-unknown', transient: false });
    expect(await store.get('TM-unknown')).toBeUndefined();
  });
});

describe('DynamoDbSafeStore: item size', () => {
  test('a record just under the JSON budget round-trips; one over it is refused before any request is sent', async () => {
    // Prepare
    const { proxy, store } = await storeBehindProxy();
    // Fixed-width fields make every allocation the same size, so the count that fills the budget is exact.
    const allocation = (index: number) => ({ id: `A${String(index).padStart(6, '0')}`, quantity: '1000000.000001', account: 'ACC-'.padEnd(40, 'x') });
    const withAllocations = (count: number) => received('TM-10', { allocations: Array.from({ length: count }, (_, index) => allocation(index)) });
    const sizeOf = (record: StageRecord) => Buffer.byteLength(JSON.stringify(record));
    const perAllocation = sizeOf(withAllocations(2)) - sizeOf(withAllocations(1));
    const fits = withAllocations(Math.floor((MAX_ITEM_JSON_BYTES - sizeOf(withAllocations(1))) / perAllocation) + 1);
    const tooLarge = received('TM-11', { blob: 'x'.repeat(MAX_ITEM_JSON_BYTES) });

    // Act
    const storedLarge = await store.putIfAbsent(fits);
    const requestsBefore = proxy.requests();
    const absent = await store.putIfAbsent(tooLarge).catch((caught: unknown) => caught);
    const newer = await store.putIfNewer({ ...tooLarge, version: 1 }).catch((caught: unknown) => caught);
    const requestsAfter = proxy.requests();

    // Assess
    expect(sizeOf(fits)).toBeLessThanOrEqual(MAX_ITEM_JSON_BYTES);
    expect(sizeOf(fits)).toBeGreaterThan(MAX_ITEM_JSON_BYTES - perAllocation);
    expect(storedLarge).toEqual({ stored: true });
    expect(await store.get('TM-10')).toEqual(recorded(fits));
    expect(absent).toBeInstanceOf(SafeStoreItemTooLargeError);
    expect(absent).toMatchObject({ id: 'TM-11', limitBytes: MAX_ITEM_JSON_BYTES, transient: false });
    expect(newer).toBeInstanceOf(SafeStoreItemTooLargeError);
    expect(requestsAfter).toBe(requestsBefore);
    expect(await store.get('TM-11')).toBeUndefined();
  });
});

describe('DynamoDbSafeStore: failures', () => {
  const transientFaults: [string, AwsFault][] = [
    ['ProvisionedThroughputExceededException', { status: 400, type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException' }],
    ['ThrottlingException', { status: 400, type: 'com.amazon.coral.availability#ThrottlingException' }],
    ['RequestLimitExceeded', { status: 400, type: 'com.amazonaws.dynamodb.v20120810#RequestLimitExceeded' }],
    ['InternalServerError', { status: 500, type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' }],
    ['ServiceUnavailable', { status: 503, type: 'com.amazonaws.dynamodb.v20120810#ServiceUnavailable' }],
    ['a reset connection', 'reset'],
  ];

  test.each(transientFaults)('%s is a SafeStoreUnavailableError carrying the SDK error as its cause', async (name, fault) => {
    // Prepare
    const { proxy, store } = await storeBehindProxy();
    proxy.failNext(1, fault);

    // Act
    const error = await store.putIfAbsent(received('TM-12')).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SafeStoreUnavailableError);
    expect((error as SafeStoreUnavailableError).transient).toBe(true);
    expect((error as Error).cause).toBeInstanceOf(Error);
    if (fault !== 'reset') expect(((error as Error).cause as Error).name).toBe(name);
    expect(await store.get('TM-12')).toBeUndefined();
  });

  test('every operation maps a refused connection to SafeStoreUnavailableError', async () => {
    // Prepare
    const { proxy, direct, table, store } = await storeBehindProxy();
    await direct.send(new PutCommand({ TableName: table, Item: received('TM-13') }));
    await proxy.close();

    // Act
    const errors = await Promise.all([
      store.putIfAbsent(received('TM-14')).catch((caught: unknown) => caught),
      store.putIfNewer({ id: 'TM-13', version: 9 }).catch((caught: unknown) => caught),
      store.get('TM-13').catch((caught: unknown) => caught),
      store.recordDelivery('TM-13', '2025-01-02T00:00:00.000Z').catch((caught: unknown) => caught),
    ]);

    // Assess
    for (const error of errors) {
      expect(error).toBeInstanceOf(SafeStoreUnavailableError);
      expect((error as Error).message).toContain('ECONNREFUSED');
    }
  });

  test('an error retrying cannot cure (a validation error, a missing table) propagates as the SDK raised it', async () => {
    // Prepare
    const { proxy, store } = await storeBehindProxy();
    proxy.failNext(1, { status: 400, type: 'com.amazon.coral.validate#ValidationException', message: 'One or more parameter values were invalid' });
    const missingTable = new DynamoDbSafeStore<StageRecord>(documentClient(dynalite.client()), 'no-such-table');

    // Act
    const invalid = await store.putIfAbsent(received('TM-15')).catch((caught: unknown) => caught);
    const missing = await missingTable.get('TM-15').catch((caught: unknown) => caught);

    // Assess
    expect(invalid).not.toBeInstanceOf(SafeStoreUnavailableError);
    expect((invalid as Error).name).toBe('ValidationException');
    expect(missing).not.toBeInstanceOf(SafeStoreUnavailableError);
    expect((missing as Error).name).toBe('ResourceNotFoundException');
  });
});
