import { describe, expect, it } from 'vitest';
import { rotorTopology } from '#shared/topology/rotor.ts';
import { InvalidTopologyError, topology, topologyProblems, validateTopology } from '#shared/topology/index.ts';

const kinesisTriggers = () =>
  topology.functions.flatMap((fn) => fn.triggers.filter((t) => t.kind === 'kinesis').map((trigger) => ({ fn, trigger })));

describe('the topology manifest', () => {
  it('is valid: every stream, table, queue, database and function it names exists', () => {
    // Act / Assess
    expect(topologyProblems(rotorTopology)).toEqual([]);
  });

  it.each([
    ['trade-matching', 'tm', ['tm.trades', 'tm.settlements']],
    ['settlement', 'sm', ['sm.settlements']],
  ])('chains %s as DESIGN §2 says: MQ → inbound gateway → ingestion → matching → egress → outbound gateway', (app, p, queues) => {
    // Prepare
    const fn = (stage: string) => topology.functions.find((f) => f.name === `${p}-${stage}`)!;
    const consumes = (stage: string) => fn(stage).triggers.map((t) => (t.kind === 'kinesis' ? t.stream : t.queue));
    const produces = (stage: string) => fn(stage).env.OUT_STREAM;

    // Assess
    expect(consumes('inbound-gateway')).toEqual(queues);
    expect(produces('inbound-gateway')).toEqual({ stream: `${p}-ingestion` });
    expect(consumes('ingestion')).toEqual([`${p}-ingestion`]);
    expect(produces('ingestion')).toEqual({ stream: `${p}-matching` });
    expect(consumes('matching')).toEqual([`${p}-matching`]);
    expect(fn('matching').env.DATABASE).toEqual({ database: `${p}-db` });
    expect(produces('matching')).toEqual({ stream: `${p}-egress` });
    expect(produces('egress')).toEqual({ stream: `${p}-outbound` });
    expect(consumes('outbound-gateway')).toEqual([`${p}-outbound`]);
    expect(topology.functions.filter((f) => f.app === app).every((f) => 'SAFE_STORE_TABLE' in f.env)).toBe(true);
  });

  it('sends TM settlements to the settlement app and settlement results back to TM', () => {
    // Prepare
    const outbound = (name: string) => topology.functions.find((f) => f.name === name)!.env;

    // Assess
    expect(outbound('tm-outbound-gateway')).toMatchObject({ SETTLEMENT_QUEUE: { queue: 'sm.settlements' }, RESPONSE_QUEUE: { queue: 'tm.responses' } });
    expect(outbound('sm-outbound-gateway')).toMatchObject({ SETTLEMENT_RESULT_QUEUE: { queue: 'tm.settlements' } });
  });

  it('partitions TM streams by match key and settlement streams by allocation key', () => {
    // Assess
    for (const stream of topology.streams) {
      expect(stream.partitionKey).toBe(stream.app === 'trade-matching' ? 'match-key' : 'allocation-key');
    }
  });

  it('never lets a Kinesis stage drop a record: partial-batch checkpoints, bisect, no record expiry, an on-failure queue', () => {
    // Assess
    expect(kinesisTriggers().length).toBe(8);
    for (const { trigger } of kinesisTriggers()) {
      expect(trigger).toMatchObject({
        functionResponseTypes: ['ReportBatchItemFailures'],
        bisectBatchOnFunctionError: true,
        maximumRecordAgeInSeconds: -1,
        startingPosition: 'TRIM_HORIZON',
      });
      expect(topology.queues.find((q) => q.name === trigger.onFailure)?.service).toBe('sqs');
    }
  });

  it('keeps every safe store a replicated global table with point-in-time recovery, and expires idempotency records', () => {
    // Assess
    for (const table of topology.tables) {
      if (table.purpose === 'safe-store') expect(table).toMatchObject({ replication: 'async', pointInTimeRecovery: true });
      if (table.purpose === 'idempotency') expect(table.ttlAttribute).toBe('expiration');
    }
  });

  it('declares dns, queue and app routing controls per app, and the generator control', () => {
    // Assess
    expect(topology.routingControls.map((c) => c.name).sort()).toEqual([
      'settlement-app', 'settlement-dns', 'settlement-queue',
      'trade-matching-app', 'trade-matching-dns', 'trade-matching-generator', 'trade-matching-queue',
    ]);
  });

  it.each([
    ['an unknown trigger stream', (t: typeof rotorTopology) => { (t.functions[1]!.triggers[0] as { stream: string }).stream = 'tm-nowhere'; }, 'triggered by unknown stream tm-nowhere'],
    ['an environment variable naming an unknown table', (t: typeof rotorTopology) => { t.functions[0]!.env.SAFE_STORE_TABLE = { table: 'tm-missing' }; }, 'names unknown table tm-missing'],
    ['an on-failure destination that is not an sqs queue', (t: typeof rotorTopology) => { (t.functions[1]!.triggers[0] as { onFailure: string }).onFailure = 'tm.trades'; }, 'is not an sqs queue'],
    ['an MQ trigger on an sqs queue', (t: typeof rotorTopology) => { (t.functions[0]!.triggers[0] as { queue: string }).queue = 'tm-ingestion-failures'; }, 'which is not an mq queue'],
    ['a stream nobody consumes', (t: typeof rotorTopology) => { t.streams.push({ ...t.streams[0]!, name: 'tm-orphan' }); }, 'stream tm-orphan has no consumer'],
    ['a name declared twice', (t: typeof rotorTopology) => { t.tables.push({ ...t.tables[0]! }); }, 'declared twice'],
    ['a state machine calling an unknown function', (t: typeof rotorTopology) => { t.stateMachines[0]!.tasks.push('ops-nothing'); }, 'calls unknown function ops-nothing'],
    ['an invalid resource name', (t: typeof rotorTopology) => { t.streams[0]!.name = 'TM_Ingestion'; }, 'streams.0.name'],
  ])('reports %s', (_case, breakIt, problem) => {
    // Prepare
    const broken = structuredClone(rotorTopology);
    breakIt(broken);

    // Act / Assess
    expect(topologyProblems(broken).join('\n')).toContain(problem);
    expect(() => validateTopology(broken)).toThrow(InvalidTopologyError);
  });
});
