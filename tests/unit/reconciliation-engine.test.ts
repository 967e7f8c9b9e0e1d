import { describe, expect, it } from 'vitest';
import { MissingConfigurationError } from '#shared/config/environment.ts';
import { resolveEnvValue } from '#local/region/function-environment.ts';
import { judge } from '#shared/reconciliation/compare.ts';
import { canonicalJson, sameBody } from '#shared/reconciliation/content.ts';
import { chunkIds } from '#shared/reconciliation/dynamodb-audit-trail.ts';
import { auditTablesFromEnv, databasesFromEnv, manifestNames, replayTargetsFromEnv, storesFromEnv } from '#shared/reconciliation/names.ts';
import { inWindow, type Expectation, type Item } from '#shared/reconciliation/pair-graph.ts';
import { topology } from '#shared/topology/index.ts';

// The generic parts of reconciliation: how a source item's expectations are judged, the window, body comparison,
// audit chunking, and the manifest giving the ops functions exactly the variables their modules read.

const store = (items: Record<string, Item>) => (table: string, id: string) => items[`${table}/${id}`];
const probe = (table: string, id: string, matches = (found: Item) => found.ok === true) => ({ table, id, matches });

describe('judging a source item', () => {
  it.each<[string, Expectation[], Record<string, Item>, string]>([
    ['met when a probe finds a matching item', [{ anyOf: [probe('t', 'a')] }], { 't/a': { id: 'a', ok: true } }, 'met'],
    ['met when any alternative matches', [{ anyOf: [probe('t', 'a'), probe('t', 'b')] }], { 't/b': { id: 'b', ok: true } }, 'met'],
    ['met with nothing expected', [], {}, 'met'],
    ['absent when nothing is stored', [{ anyOf: [probe('t', 'a'), probe('t', 'b')] }], {}, 'absent'],
    ['differs when stored but not matching', [{ anyOf: [probe('t', 'a')] }], { 't/a': { id: 'a', ok: false } }, 'differs'],
    ['absent when one of several expectations finds nothing', [{ anyOf: [probe('t', 'a')] }, { anyOf: [probe('u', 'a')] }], { 't/a': { id: 'a', ok: false } }, 'absent'],
    ['unmet when an expectation has nothing to probe', [{ anyOf: [] }], {}, 'absent'],
  ])('is %s', (_case, expectations, items, verdict) => {
    // Act / Assess
    expect(judge(expectations, store(items))).toBe(verdict);
  });
});

describe('the window', () => {
  const until = new Date('2026-11-23T10:00:00.000Z');

  it.each<[string, Item, boolean]>([
    ['recorded before', { id: 'a', recordedAt: '2026-11-23T09:59:59.999Z' }, true],
    ['recorded at the limit', { id: 'a', recordedAt: '2026-11-23T10:00:00.000Z' }, true],
    ['recorded after', { id: 'a', recordedAt: '2026-11-23T10:00:00.001Z' }, false],
    ['received after, with no store stamp', { id: 'a', receivedAt: '2026-11-23T10:00:01.000Z' }, false],
    ['stamped before though received after (the stamp wins)', { id: 'a', recordedAt: '2026-11-23T09:00:00.000Z', receivedAt: '2026-11-23T11:00:00.000Z' }, true],
    ['saying nothing about when', { id: 'a' }, true],
  ])('holds an item %s: %s', (_case, item, inside) => {
    // Act / Assess
    expect(inWindow(item, until)).toBe(inside);
  });
});

describe('comparing bodies', () => {
  it('compares JSON bodies as values and anything else as text', () => {
    // Act / Assess
    expect(canonicalJson({ b: [1, { d: 'x', c: null }], a: undefined })).toBe('{"b":[1,{"c":null,"d":"x"}]}');
    expect(sameBody('{"a":1,"b":{"c":"12.50"}}', '{"b":{"c":"12.50"},"a":1}')).toBe(true);
    expect(sameBody('{"a":1,"b":{"c":"12.5"}}', '{"b":{"c":"12.50"},"a":1}')).toBe(false);
    expect(sameBody('not json', 'not json')).toBe(true);
    expect(sameBody('not json', 'not json either')).toBe(false);
    expect(sameBody(undefined, '{}')).toBe(false);
  });
});

describe('audit chunks', () => {
  it('keeps every id, in order, in chunks within the byte budget', () => {
    // Prepare
    const ids = Array.from({ length: 1_000 }, (_, index) => `msg:QAINS012-QAINS012-QABRO010-${index}:${'0'.repeat(32)}`);

    // Act
    const chunks = chunkIds(ids, 8 * 1024);

    // Assess
    expect(chunks.flat()).toEqual(ids);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThanOrEqual(8 * 1024);
  });
});

describe('the operations functions in the manifest', () => {
  const envOf = (name: string) => {
    const fn = topology.functions.find((candidate) => candidate.name === name)!;
    const resources = { databaseConnectionStrings: new Map([['tm-db', 'pglite:/tm'], ['sm-db', 'pglite:/sm']]), queuePrefix: '' };
    return Object.fromEntries(Object.entries(fn.env).map(([variable, value]) => [variable, resolveEnvValue(value, resources)]));
  };

  it('give ops-reconcile what it reads of both apps, and nothing to send with', () => {
    // Prepare
    const env = envOf('ops-reconcile');

    // Act / Assess
    expect(storesFromEnv(env)).toEqual(manifestNames().stores);
    expect(databasesFromEnv(env)).toEqual({ 'trade-matching': 'pglite:/tm', settlement: 'pglite:/sm' });
    expect(auditTablesFromEnv(env)).toEqual({ 'trade-matching': 'tm-reconciliation-audit', settlement: 'sm-reconciliation-audit' });
    expect(() => replayTargetsFromEnv(env)).toThrow(MissingConfigurationError);
  });

  it('give ops-replay the streams and queues it replays into, ops-report only the audit tables', () => {
    // Prepare
    const replay = envOf('ops-replay');
    const report = envOf('ops-report');

    // Act / Assess
    expect(storesFromEnv(replay)).toEqual(manifestNames().stores);
    expect(replayTargetsFromEnv(replay)).toEqual(manifestNames().targets);
    expect(Object.keys(report).sort()).toEqual(['SM_RECONCILIATION_AUDIT', 'TM_RECONCILIATION_AUDIT']);
    expect(auditTablesFromEnv(report)).toEqual({ 'trade-matching': 'tm-reconciliation-audit', settlement: 'sm-reconciliation-audit' });
  });

  it('declare the audit tables as replicated results tables with point-in-time recovery', () => {
    // Act
    const audit = topology.tables.filter((table) => table.name.endsWith('-reconciliation-audit'));

    // Assess
    expect(audit).toEqual([
      { name: 'tm-reconciliation-audit', app: 'trade-matching', purpose: 'results', hashKey: 'id', replication: 'async', pointInTimeRecovery: true },
      { name: 'sm-reconciliation-audit', app: 'settlement', purpose: 'results', hashKey: 'id', replication: 'async', pointInTimeRecovery: true },
    ]);
  });
});
