import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topology } from '#shared/topology/index.ts';
import { routingControlNames } from '#shared/topology/routing.ts';
import { planStage, regionCode, stageContext, type StagePlan } from '#stacks/plan/index.ts';

/**
 * Walks the manifest: every entry must become a resource of every stage that should hold it, and every family of
 * the plan must be created by a stack file, so nothing the twin runs is missing on AWS.
 */

const plans = topology.regions.map((region) => planStage(topology, stageContext(`ci-${regionCode(region)}`, topology.regions, { account: '123456789012' })));
const names = <T>(items: readonly T[], name: (item: T) => string) => new Set(items.map(name));

describe.each(plans.map((plan) => [plan.context.stage, plan] as const))('stage %s', (_stage, plan: StagePlan) => {
  it('has a stream for every manifest stream', () => {
    expect(names(plan.streams, (stream) => stream.manifest)).toEqual(names(topology.streams, (stream) => stream.name));
  });

  it('has every manifest table, created here or replicated here from the primary', () => {
    const primary = plans[0]!;
    expect(names(plan.tables, (table) => table.manifest)).toEqual(names(topology.tables, (table) => table.name));
    for (const table of plan.tables.filter((candidate) => !candidate.createdHere)) {
      const origin = primary.tables.find((candidate) => candidate.manifest === table.manifest)!;
      expect(origin.args.replicas.map((replica) => replica.regionName), table.manifest).toContain(plan.context.region);
    }
  });

  it('has an SQS queue for every sqs queue and the broker holds every mq queue', () => {
    expect(names(plan.failureQueues, (queue) => queue.manifest)).toEqual(names(topology.queues.filter((queue) => queue.service === 'sqs'), (queue) => queue.name));
    expect(new Set(plan.broker.queues)).toEqual(names(topology.queues.filter((queue) => queue.service === 'mq'), (queue) => queue.name));
  });

  it('has a member cluster of a global database for every manifest database', () => {
    expect(names(plan.databases, (database) => database.manifest)).toEqual(names(topology.databases, (database) => database.name));
    for (const database of plan.databases) expect(database.clusterIdentifier).toContain(plan.context.region);
  });

  it('has a function for every manifest function and a mapping for every trigger', () => {
    expect(names(plan.functions, (fn) => fn.manifest)).toEqual(names(topology.functions, (fn) => fn.name));
    const triggers = topology.functions.flatMap((fn) => fn.triggers.map((trigger) => `${fn.name} ← ${trigger.kind === 'kinesis' ? trigger.stream : trigger.queue}`));
    const mappings = [
      ...plan.kinesisMappings.map((mapping) => `${mapping.function} ← ${mapping.stream}`),
      ...plan.mqMappings.map((mapping) => `${mapping.function} ← ${mapping.queue}`),
    ];
    expect(mappings.sort()).toEqual(triggers.sort());
  });

  it('has every state machine, and every routing control in every region it exists in', () => {
    expect(names(plan.stateMachines, (machine) => machine.manifest)).toEqual(names(topology.stateMachines, (machine) => machine.name));
    const controls = topology.routingControls.flatMap((spec) => routingControlNames(spec, topology.regions));
    expect(plan.routing.controls.map((control) => control.name).sort()).toEqual(controls.sort());
    const dnsHere = controls.filter((name) => name.includes('-dns-') && name.endsWith(plan.context.region));
    expect(plan.routing.healthChecks.map((check) => check.control).sort()).toEqual(dnsHere.sort());
  });

  it('alarms on every Kinesis consumer, failure queue, table replication, database and broker dead-letter queue', () => {
    const dimensionsOf = (metric: string) => plan.alarms.filter((alarm) => alarm.metricName === metric).map((alarm) => alarm.dimensions);
    expect(dimensionsOf('IteratorAge')).toHaveLength(plan.kinesisMappings.length);
    expect(dimensionsOf('ApproximateNumberOfMessagesVisible')).toHaveLength(plan.failureQueues.length);
    expect(dimensionsOf('ReplicationLatency')).toHaveLength(topology.tables.length * plan.context.peerRegions.length);
    expect(dimensionsOf('AuroraGlobalDBRPOLag')).toHaveLength(topology.databases.length);
    expect(new Set(dimensionsOf('QueueSize').map((dimensions) => dimensions.Queue))).toEqual(new Set(plan.broker.queues.map((queue) => `DLQ.${queue}`)));
    expect(dimensionsOf('Nacks').length).toBeGreaterThan(0);
  });
});

describe('stack files', () => {
  it('create every family of the plan', () => {
    // Prepare: every file of stacks/ except the pure plans
    const stackSource = readdirSync(new URL('../../../stacks/', import.meta.url))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(new URL(`../../../stacks/${file}`, import.meta.url), 'utf8'))
      .join('\n');
    const families = Object.keys(plans[0]!).filter((key) => key !== 'context');

    // Act
    const unused = families.filter((family) => !stackSource.includes(`plan.${family}`));

    // Assess
    expect(unused).toEqual([]);
  });
});
