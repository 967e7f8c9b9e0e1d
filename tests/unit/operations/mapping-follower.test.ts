import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { RunningArcEmulator } from '#local/global/arc/emulator.ts';
import { CachedRoutingControls } from '#shared/adapters/arc/cached-routing-controls.ts';
import { LambdaEventSourceMappings } from '#shared/adapters/lambda/lambda-event-source-mappings.ts';
import {
  followMappings,
  InvalidFollowedMappingsError,
  parseFollowedMappings,
  type FollowedMapping,
  type MappingFollowerDependencies,
  type MappingFollowerLogEvent,
} from '#shared/operations/mapping-follower.ts';
import {
  EventSourceMappingBusyError,
  EventSourceMappingNotFoundError,
  EventSourceMappingRequestError,
  EventSourceMappingsUnavailableError,
  type EventSourceMappings,
  type MappingState,
} from '#shared/ports/event-source-mappings.ts';
import { regionalRoutingControlName } from '#shared/ports/routing-controls.ts';
import { ArcTestBench, TEST_CREDENTIALS } from '#tests/support/arc-cluster.ts';

/**
 * The mapping follower keeps each gateway's MQ mapping enabled exactly while its queue control is On in its region,
 * reading the controls from the twin's real ARC emulator (us-east-1 active: its queue controls On, us-west-2's Off)
 * and switching in-memory mappings that behave like Lambda's (a switch passes through Enabling or Disabling). The
 * Lambda adapter is tested against a small fake of the Lambda API, and the handler with both.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const EAST_QUEUE = regionalRoutingControlName('trade-matching-queue', 'us-east-1');
const WEST_QUEUE = regionalRoutingControlName('trade-matching-queue', 'us-west-2');
const SM_WEST_QUEUE = regionalRoutingControlName('settlement-queue', 'us-west-2');

/**
 * Event-source mappings as Lambda keeps them: a switch answers at once and the mapping reads Enabling or Disabling
 * until it settles, which here happens after that one read (AWS takes well under a tick). Calls are recorded, and a
 * mapping can be told to fail its reads or its updates.
 */
class MemoryEventSourceMappings implements EventSourceMappings {
  readonly states = new Map<string, MappingState>();
  readonly updates: { uuid: string; enabled: boolean }[] = [];
  readonly reads: string[] = [];
  readonly failReads = new Map<string, Error>();
  readonly failUpdates = new Map<string, Error>();
  /** Runs on every read, e.g. to let the fake clock move while the API answers. */
  onRead: (uuid: string) => void = () => undefined;

  constructor(initial: Record<string, MappingState> = {}) {
    for (const [uuid, state] of Object.entries(initial)) this.states.set(uuid, state);
  }

  async state(uuid: string): Promise<MappingState> {
    this.reads.push(uuid);
    this.onRead(uuid);
    const failure = this.failReads.get(uuid);
    if (failure) throw failure;
    const state = this.states.get(uuid);
    if (state === undefined) throw new EventSourceMappingNotFoundError(uuid);
    // Answers the transition as it is, and it has settled by the next read.
    this.states.set(uuid, state === 'Enabling' ? 'Enabled' : state === 'Disabling' ? 'Disabled' : state);
    return state;
  }

  async setEnabled(uuid: string, enabled: boolean): Promise<void> {
    const failure = this.failUpdates.get(uuid);
    if (failure) throw failure;
    if (!this.states.has(uuid)) throw new EventSourceMappingNotFoundError(uuid);
    this.updates.push({ uuid, enabled });
    this.states.set(uuid, enabled ? 'Enabling' : 'Disabling');
  }
}

/** A clock that moves only when the follower sleeps (or a test moves it). */
function fakeTime(start = Date.parse('2026-11-23T10:00:00.000Z')) {
  const time = {
    now: start,
    sleeps: [] as number[],
    /** Runs during each sleep, before the clock moves on: what happens between two ticks. */
    between: async (_sleep: number) => undefined as void,
    read: () => time.now,
    sleep: async (ms: number) => {
      time.sleeps.push(ms);
      await time.between(time.sleeps.length);
      time.now += ms;
    },
  };
  return time;
}

const bench = new ArcTestBench();
let arc: RunningArcEmulator;
let operator: ReturnType<ArcTestBench['adapter']>;

beforeEach(async () => {
  arc = await bench.start();
  operator = bench.adapter(arc);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await bench.cleanUp();
});

/** The follower's dependencies over the emulator: a fresh cache (nothing seen yet), the fake clock, a log. */
function followerOf(mappings: MemoryEventSourceMappings, time = fakeTime()) {
  const logged: MappingFollowerLogEvent[] = [];
  const deps: MappingFollowerDependencies = {
    controls: new CachedRoutingControls(bench.adapter(arc)),
    mappings,
    now: time.read,
    sleep: time.sleep,
    log: (event) => logged.push(event),
  };
  return { deps, time, logged };
}

async function stopAllEndpoints() {
  for (const index of arc.endpoints.keys()) await arc.stopEndpoint(index);
}

describe('followMappings: following the controls', () => {
  test('enables a Disabled mapping whose control is On, disables an Enabled one whose control is Off, then leaves both', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Disabled', west: 'Enabled' });
    const { deps, time } = followerOf(mappings);
    const followed: FollowedMapping[] = [
      { uuid: 'east', control: EAST_QUEUE },
      { uuid: 'west', control: WEST_QUEUE },
    ];

    // Act
    const result = await followMappings({ mappings: followed, durationMs: 10_000, everyMs: 5_000 }, deps);

    // Assess
    expect(result.ticks).toBe(3);
    expect(result.changes).toEqual([
      { uuid: 'east', control: EAST_QUEUE, enabled: true, from: 'Disabled', controlState: 'On', stale: false, at: new Date(time.now - 10_000).toISOString() },
      { uuid: 'west', control: WEST_QUEUE, enabled: false, from: 'Enabled', controlState: 'Off', stale: false, at: new Date(time.now - 10_000).toISOString() },
    ]);
    expect(mappings.updates).toEqual([
      { uuid: 'east', enabled: true },
      { uuid: 'west', enabled: false },
    ]);
    expect(result.unchanged).toBe(4);
    expect(result.held).toEqual([]);
    expect(result.errors).toEqual([]);
    // The second tick found them Enabling and Disabling, the third settled: both left alone.
    expect(Object.fromEntries(mappings.states)).toEqual({ east: 'Enabled', west: 'Disabled' });
  });

  test('a mapping that is Enabling while its control is On, or Disabling while it is Off, is left alone', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Enabled', west: 'Disabled' });
    const { deps } = followerOf(mappings);
    // These stay in their transition, however often they are read.
    const transitioning = { east: 'Enabling', west: 'Disabling' } as const;
    const stuck: EventSourceMappings = { state: async (uuid) => transitioning[uuid as 'east' | 'west'], setEnabled: (uuid, enabled) => mappings.setEnabled(uuid, enabled) };

    // Act
    const result = await followMappings(
      {
        mappings: [
          { uuid: 'east', control: EAST_QUEUE },
          { uuid: 'west', control: WEST_QUEUE },
        ],
        durationMs: 0,
      },
      { ...deps, mappings: stuck },
    );

    // Assess
    expect(result).toMatchObject({ ticks: 1, changes: [], unchanged: 2, held: [], errors: [] });
    expect(mappings.updates).toEqual([]);
  });

  test('follows a flip of the control on the next tick, within everyMs', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ west: 'Disabled' });
    const { deps, time } = followerOf(mappings);
    time.between = async (sleep) => {
      if (sleep === 2) await operator.update(WEST_QUEUE, 'On');
      if (sleep === 4) await operator.update(WEST_QUEUE, 'Off');
    };
    const start = time.now;

    // Act
    const result = await followMappings({ mappings: [{ uuid: 'west', control: WEST_QUEUE }], durationMs: 25_000, everyMs: 5_000 }, deps);

    // Assess
    expect(result.ticks).toBe(6);
    expect(result.changes.map(({ enabled, at }) => ({ enabled, afterMs: Date.parse(at) - start }))).toEqual([
      { enabled: true, afterMs: 10_000 },
      { enabled: false, afterMs: 20_000 },
    ]);
    expect(result.unchanged).toBe(4);
    expect(mappings.states.get('west')).toBe('Disabled');
  });

  test('two mappings that follow the same control read it once per tick', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ trades: 'Disabled', settlements: 'Disabled' });
    const { deps } = followerOf(mappings);
    const before = [...arc.endpoints.keys()].reduce((sum, index) => sum + arc.endpointRequestCount(index), 0);

    // Act
    const result = await followMappings(
      {
        mappings: [
          { uuid: 'trades', control: EAST_QUEUE },
          { uuid: 'settlements', control: EAST_QUEUE },
        ],
        durationMs: 5_000,
      },
      deps,
    );
    const requests = [...arc.endpoints.keys()].reduce((sum, index) => sum + arc.endpointRequestCount(index), 0) - before;

    // Assess
    expect(result.changes.map((change) => [change.uuid, change.enabled])).toEqual([
      ['trades', true],
      ['settlements', true],
    ]);
    // The first read lists the controls to learn the ARN, then one GetRoutingControlState per tick.
    expect(requests).toBe(3);
  });
});

describe('followMappings: what it leaves alone', () => {
  test('leaves a mapping that is Creating, Updating or Deleting, or in a state it does not know, and notes why once per run', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ creating: 'Creating', updating: 'Updating', deleting: 'Deleting', odd: 'Paused' });
    const { deps, logged } = followerOf(mappings);

    // Act
    const result = await followMappings(
      {
        mappings: [
          { uuid: 'creating', control: WEST_QUEUE },
          { uuid: 'updating', control: EAST_QUEUE },
          { uuid: 'deleting', control: WEST_QUEUE },
          { uuid: 'odd', control: EAST_QUEUE },
        ],
        durationMs: 5_000,
      },
      deps,
    );

    // Assess
    expect(mappings.updates).toEqual([]);
    expect(result.changes).toEqual([]);
    expect(result.held.map(({ uuid, reason, mappingState, ticks }) => ({ uuid, reason, mappingState, ticks }))).toEqual([
      { uuid: 'creating', reason: 'mapping-transitional', mappingState: 'Creating', ticks: 2 },
      { uuid: 'updating', reason: 'mapping-transitional', mappingState: 'Updating', ticks: 2 },
      { uuid: 'deleting', reason: 'mapping-transitional', mappingState: 'Deleting', ticks: 2 },
      { uuid: 'odd', reason: 'mapping-state-unknown', mappingState: 'Paused', ticks: 2 },
    ]);
    expect(result.held[0]!.detail).toContain('Creating');
    expect(logged.filter((event) => event.kind === 'held')).toHaveLength(4);
  });

  test('does nothing when the cluster is unreachable and the control was never seen, and says so', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Disabled', west: 'Enabled' });
    const { deps } = followerOf(mappings);
    await stopAllEndpoints();

    // Act
    const result = await followMappings(
      {
        mappings: [
          { uuid: 'east', control: EAST_QUEUE },
          { uuid: 'west', control: WEST_QUEUE },
        ],
        durationMs: 5_000,
      },
      deps,
    );

    // Assess
    expect(mappings.updates).toEqual([]);
    expect(Object.fromEntries(mappings.states)).toEqual({ east: 'Disabled', west: 'Enabled' });
    expect(result).toMatchObject({ ticks: 2, changes: [], unchanged: 0, errors: [] });
    expect(result.held).toEqual([
      expect.objectContaining({ uuid: 'east', reason: 'control-unknown', ticks: 2, detail: expect.stringContaining('unreachable') }),
      expect.objectContaining({ uuid: 'west', reason: 'control-unknown', ticks: 2 }),
    ]);
  });

  test('keeps acting on the last known state when the cluster goes away after a read', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Disabled', west: 'Enabled' });
    const { deps, time } = followerOf(mappings);
    time.between = async (sleep) => {
      if (sleep === 1) await stopAllEndpoints();
      // Someone switches both mappings by hand while nobody can read the controls.
      if (sleep === 2) {
        mappings.states.set('east', 'Disabled');
        mappings.states.set('west', 'Enabled');
      }
    };

    // Act
    const result = await followMappings(
      {
        mappings: [
          { uuid: 'east', control: EAST_QUEUE },
          { uuid: 'west', control: WEST_QUEUE },
        ],
        durationMs: 10_000,
      },
      deps,
    );

    // Assess
    expect(result.ticks).toBe(3);
    expect(result.changes.map(({ uuid, enabled, stale }) => ({ uuid, enabled, stale }))).toEqual([
      { uuid: 'east', enabled: true, stale: false },
      { uuid: 'west', enabled: false, stale: false },
      { uuid: 'east', enabled: true, stale: true },
      { uuid: 'west', enabled: false, stale: true },
    ]);
    expect(result.unchanged).toBe(2);
    expect(result.held).toEqual([]);
    expect(result.errors).toEqual([]);
  });
});

describe('followMappings: failures', () => {
  test('keeps going when one mapping fails, reports each failure, and tries it again next tick', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ busy: 'Disabled', healthy: 'Disabled', offline: 'Enabled', unknownControl: 'Enabled' });
    mappings.failUpdates.set('busy', new EventSourceMappingBusyError('busy', 'ResourceConflictException: an update is in progress'));
    mappings.failReads.set('offline', new EventSourceMappingsUnavailableError('offline', 'ECONNRESET: socket hang up'));
    const { deps, logged } = followerOf(mappings);

    // Act
    const result = await followMappings(
      {
        mappings: [
          { uuid: 'gone', control: EAST_QUEUE },
          { uuid: 'busy', control: EAST_QUEUE },
          { uuid: 'offline', control: SM_WEST_QUEUE },
          { uuid: 'unknownControl', control: 'trade-matching-queue-eu-central-1' },
          { uuid: 'healthy', control: EAST_QUEUE },
        ],
        durationMs: 5_000,
      },
      deps,
    );

    // Assess
    expect(result.ticks).toBe(2);
    expect(result.changes).toEqual([expect.objectContaining({ uuid: 'healthy', enabled: true })]);
    expect(mappings.updates).toEqual([{ uuid: 'healthy', enabled: true }]);
    expect(result.errors.map(({ uuid, error, transient }) => ({ uuid, name: error.split(':')[0], transient }))).toEqual([
      { uuid: 'gone', name: 'EventSourceMappingNotFoundError', transient: false },
      { uuid: 'busy', name: 'EventSourceMappingBusyError', transient: true },
      { uuid: 'offline', name: 'EventSourceMappingsUnavailableError', transient: true },
      { uuid: 'unknownControl', name: 'RoutingControlNotFoundError', transient: false },
      { uuid: 'gone', name: 'EventSourceMappingNotFoundError', transient: false },
      { uuid: 'busy', name: 'EventSourceMappingBusyError', transient: true },
      { uuid: 'offline', name: 'EventSourceMappingsUnavailableError', transient: true },
      { uuid: 'unknownControl', name: 'RoutingControlNotFoundError', transient: false },
    ]);
    expect(result.errors[3]!.error).toContain('trade-matching-queue-eu-central-1');
    expect(logged.filter((event) => event.kind === 'failed')).toHaveLength(8);
  });
});

describe('followMappings: ticking', () => {
  test('ticks every everyMs and never starts a tick after durationMs (55 s and 5 s by default)', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Enabled' });
    const { deps, time } = followerOf(mappings);
    const start = time.now;
    const tickStarts: number[] = [];
    mappings.onRead = () => tickStarts.push(time.now - start);

    // Act
    const result = await followMappings({ mappings: [{ uuid: 'east', control: EAST_QUEUE }] }, deps);

    // Assess
    expect(result.ticks).toBe(12);
    expect(tickStarts).toEqual(Array.from({ length: 12 }, (_, index) => index * 5_000));
    expect(time.sleeps).toEqual(Array.from({ length: 11 }, () => 5_000));
    expect(result.unchanged).toBe(12);
  });

  test('a slow tick delays the next one instead of stacking ticks, and none starts after durationMs', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Enabled' });
    const { deps, time } = followerOf(mappings);
    const start = time.now;
    const tickStarts: number[] = [];
    mappings.onRead = () => {
      tickStarts.push(time.now - start);
      time.now += 7_000;
    };

    // Act
    const result = await followMappings({ mappings: [{ uuid: 'east', control: EAST_QUEUE }], durationMs: 55_000, everyMs: 5_000 }, deps);

    // Assess
    expect(tickStarts).toEqual([0, 7_000, 14_000, 21_000, 28_000, 35_000, 42_000, 49_000]);
    expect(result.ticks).toBe(8);
    expect(time.sleeps).toEqual([]);
  });

  test('a timer that fires late does not start a tick after durationMs', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Enabled' });
    const { deps, time } = followerOf(mappings);
    const start = time.now;
    const tickStarts: number[] = [];
    mappings.onRead = () => tickStarts.push(time.now - start);
    const sleepOnTime = time.sleep;
    const lateSleep = async (ms: number) => {
      await sleepOnTime(ms);
      time.now += 2_000;
    };

    // Act
    const result = await followMappings({ mappings: [{ uuid: 'east', control: EAST_QUEUE }], durationMs: 55_000, everyMs: 5_000 }, { ...deps, sleep: lateSleep });

    // Assess
    expect(tickStarts).toEqual([0, 7_000, 14_000, 21_000, 28_000, 35_000, 42_000, 49_000]);
    expect(result.ticks).toBe(8);
    // It slept towards a tick planned at 54 s, woke at 56 s, and stopped.
    expect(time.sleeps).toHaveLength(8);
  });

  test('durationMs 0 is a single tick with no wait', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ east: 'Disabled' });
    const { deps, time } = followerOf(mappings);

    // Act
    const result = await followMappings({ mappings: [{ uuid: 'east', control: EAST_QUEUE }], durationMs: 0 }, deps);

    // Assess
    expect(result.ticks).toBe(1);
    expect(result.changes).toHaveLength(1);
    expect(time.sleeps).toEqual([]);
  });

  test('refuses a negative durationMs or a zero everyMs', async () => {
    // Prepare
    const { deps } = followerOf(new MemoryEventSourceMappings());

    // Act
    const negative = followMappings({ mappings: [], durationMs: -1 }, deps);
    const zero = followMappings({ mappings: [], everyMs: 0 }, deps);

    // Assess
    await expect(negative).rejects.toThrow(/durationMs/);
    await expect(zero).rejects.toThrow(/everyMs/);
  });
});

describe('FOLLOWED_MAPPINGS', () => {
  test('parses a JSON list of mappings and the regional controls they follow', () => {
    // Prepare
    const json = JSON.stringify([
      { uuid: 'a1b2c3d4-0000-4000-8000-000000000001', control: EAST_QUEUE },
      { uuid: 'a1b2c3d4-0000-4000-8000-000000000002', control: 'settlement-queue-us-east-1' },
    ]);

    // Act
    const followed = parseFollowedMappings(json);

    // Assess
    expect(followed).toEqual([
      { uuid: 'a1b2c3d4-0000-4000-8000-000000000001', control: EAST_QUEUE },
      { uuid: 'a1b2c3d4-0000-4000-8000-000000000002', control: 'settlement-queue-us-east-1' },
    ]);
  });

  test.each([
    ['unset', undefined, /FOLLOWED_MAPPINGS is not set/],
    ['not JSON', '[{uuid: 1}]', /FOLLOWED_MAPPINGS is not JSON \(expected \[\{"uuid"/],
    ['not a list', '{"uuid":"u","control":"c"}', /FOLLOWED_MAPPINGS is not valid:[\s\S]*expected array/],
    ['an empty list', '[]', /name at least one mapping to follow/],
    ['an empty uuid', JSON.stringify([{ uuid: '  ', control: EAST_QUEUE }]), /uuid must be a non-empty[\s\S]*at \[0\]\.uuid/],
    ['a control that is not a control name', JSON.stringify([{ uuid: 'u', control: 'Trade_Matching queue' }]), /control must be a regional routing control name[\s\S]*at \[0\]\.control/],
    ['a missing control', JSON.stringify([{ uuid: 'u' }]), /at \[0\]\.control/],
    ['an unknown field', JSON.stringify([{ uuid: 'u', control: EAST_QUEUE, enabled: true }]), /enabled/],
    ['a uuid twice', JSON.stringify([{ uuid: 'u', control: EAST_QUEUE }, { uuid: 'u', control: WEST_QUEUE }]), /each mapping uuid may be followed once/],
  ])('rejects %s with a message that says what is wrong', (_case, json, message) => {
    // Act
    const error = (() => {
      try {
        parseFollowedMappings(json);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();

    // Assess
    expect(error).toBeInstanceOf(InvalidFollowedMappingsError);
    expect((error as Error).message).toMatch(message);
  });
});

/**
 * Enough of the Lambda API for the adapter: GetEventSourceMapping and UpdateEventSourceMapping by UUID, over a
 * MemoryEventSourceMappings, and any request for a UUID in `faults` answered with that AWS error.
 */
async function startFakeLambdaApi(mappings: MemoryEventSourceMappings) {
  const faults = new Map<string, { status: number; type: string }>();
  const requests: { method: string; path: string; body: string }[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = request.url ?? '';
      requests.push({ method: request.method ?? '', path, body });
      const uuid = decodeURIComponent(/^\/2015-03-31\/event-source-mappings\/([^/?]+)/.exec(path)?.[1] ?? '');
      const answer = (status: number, payload: unknown, type?: string) => {
        response.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
        response.end(JSON.stringify(payload));
      };
      const fault = faults.get(uuid);
      if (fault) return answer(fault.status, { Type: 'User', message: `${fault.type} for ${uuid}` }, fault.type);
      if (!mappings.states.has(uuid)) return answer(404, { Type: 'User', Message: `The resource you requested does not exist.` }, 'ResourceNotFoundException');
      if (request.method === 'PUT') {
        const { Enabled } = JSON.parse(body) as { Enabled?: boolean };
        mappings.states.set(uuid, Enabled ? 'Enabling' : 'Disabling');
      }
      return answer(request.method === 'PUT' ? 202 : 200, { UUID: uuid, State: mappings.states.get(uuid), BatchSize: 100 });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, faults, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('LambdaEventSourceMappings', () => {
  async function adapterOn(mappings: MemoryEventSourceMappings) {
    const api = await startFakeLambdaApi(mappings);
    const client = new LambdaClient({ endpoint: api.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    return { api, adapter: new LambdaEventSourceMappings(client), close: async () => (client.destroy(), await api.close()) };
  }

  test('reads the State and switches the mapping with Enabled', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ 'uuid-1': 'Disabled' });
    const { api, adapter, close } = await adapterOn(mappings);

    // Act
    const before = await adapter.state('uuid-1');
    await adapter.setEnabled('uuid-1', true);
    const after = await adapter.state('uuid-1');
    await close();

    // Assess
    expect([before, after]).toEqual(['Disabled', 'Enabling']);
    expect(api.requests.map(({ method, path }) => `${method} ${path}`)).toEqual([
      'GET /2015-03-31/event-source-mappings/uuid-1',
      'PUT /2015-03-31/event-source-mappings/uuid-1',
      'GET /2015-03-31/event-source-mappings/uuid-1',
    ]);
    expect(JSON.parse(api.requests[1]!.body)).toEqual({ Enabled: true });
  });

  test.each([
    ['ResourceNotFoundException', 404, EventSourceMappingNotFoundError, false],
    ['ResourceConflictException', 409, EventSourceMappingBusyError, true],
    ['ResourceInUseException', 400, EventSourceMappingBusyError, true],
    ['TooManyRequestsException', 429, EventSourceMappingsUnavailableError, true],
    ['ServiceException', 500, EventSourceMappingsUnavailableError, true],
    ['AccessDeniedException', 403, EventSourceMappingRequestError, false],
  ])('%s (HTTP %i) becomes %O', async (type, status, errorClass, transient) => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ 'uuid-1': 'Enabled' });
    const { api, adapter, close } = await adapterOn(mappings);
    api.faults.set('uuid-1', { status, type });

    // Act
    const read = await adapter.state('uuid-1').catch((error: unknown) => error);
    const update = await adapter.setEnabled('uuid-1', false).catch((error: unknown) => error);
    await close();

    // Assess
    for (const error of [read, update]) {
      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ uuid: 'uuid-1', transient });
    }
  });

  test('an API it cannot reach is unavailable, a transient error', async () => {
    // Prepare
    const api = await startFakeLambdaApi(new MemoryEventSourceMappings());
    await api.close();
    const adapter = new LambdaEventSourceMappings(new LambdaClient({ endpoint: api.url, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 }));

    // Act
    const error = await adapter.state('uuid-1').catch((caught: unknown) => caught);
    adapter.destroy();

    // Assess
    expect(error).toBeInstanceOf(EventSourceMappingsUnavailableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});

describe('the mapping-follower handler', () => {
  test('reads FOLLOWED_MAPPINGS and the cluster from its environment, switches the mappings over the Lambda API and returns the run', async () => {
    // Prepare
    const mappings = new MemoryEventSourceMappings({ 'uuid-east': 'Disabled', 'uuid-west': 'Enabled' });
    const api = await startFakeLambdaApi(mappings);
    const environment = {
      FOLLOWED_MAPPINGS: JSON.stringify([
        { uuid: 'uuid-east', control: EAST_QUEUE },
        { uuid: 'uuid-west', control: WEST_QUEUE },
      ]),
      ROUTING_CONTROL_ENDPOINTS: arc.clusterEndpointsJson,
      AWS_ENDPOINT_URL_LAMBDA: api.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    for (const [variable, value] of Object.entries(environment)) vi.stubEnv(variable, value);
    vi.resetModules();
    const { handler } = await import('#functions/operations/mapping-follower.ts');

    // Act
    const result = await handler({ durationMs: 0 }, { getRemainingTimeInMillis: () => 70_000 });
    await api.close();

    // Assess
    expect(result).toMatchObject({ ticks: 1, unchanged: 0, held: [], errors: [] });
    expect(result.changes.map(({ uuid, enabled }) => ({ uuid, enabled }))).toEqual([
      { uuid: 'uuid-east', enabled: true },
      { uuid: 'uuid-west', enabled: false },
    ]);
    expect(Object.fromEntries(mappings.states)).toEqual({ 'uuid-east': 'Enabling', 'uuid-west': 'Disabling' });
  });

  test('a cold start with a bad FOLLOWED_MAPPINGS fails loudly', async () => {
    // Prepare
    vi.stubEnv('FOLLOWED_MAPPINGS', JSON.stringify([{ uuid: '', control: EAST_QUEUE }]));
    vi.stubEnv('ROUTING_CONTROL_ENDPOINTS', arc.clusterEndpointsJson);
    vi.resetModules();

    // Act
    const loading = import('#functions/operations/mapping-follower.ts');

    // Assess
    await expect(loading).rejects.toThrow(/FOLLOWED_MAPPINGS is not valid/);
  });
});
