import { describe, expect, it } from 'vitest';
import { topology } from '#shared/topology/index.ts';
import { planStage, regionCode, stageContext, type StagePlan } from '#stacks/plan/index.ts';
import { UNSCOPABLE_ACTIONS } from '#stacks/plan/functions.ts';
import { DASHBOARD_UNSCOPABLE_ACTIONS } from '#stacks/plan/dashboard.ts';

/**
 * Rotor's rules for what it deploys, asserted on the plans the stack files create their resources from, for every
 * stage of the manifest (one per region).
 */

const ACCOUNT = '123456789012';
const plans: StagePlan[] = topology.regions.map((region) => planStage(topology, stageContext(`prod-${regionCode(region)}`, topology.regions, { account: ACCOUNT })));
const [primary, ...secondaries] = plans as [StagePlan, ...StagePlan[]];

describe.each(plans.map((plan) => [plan.context.stage, plan] as const))('stage %s', (_stage, plan) => {
  it('gives every Kinesis mapping partial-batch responses, bisect, a failure destination that exists, and no expiry', () => {
    // Prepare
    const failureQueueArns = new Set(plan.failureQueues.map((queue) => queue.arn));

    // Act
    const mappings = plan.kinesisMappings.map((mapping) => mapping.args);

    // Assess
    expect(mappings.length).toBeGreaterThan(0);
    for (const mapping of mappings) {
      expect(mapping.functionResponseTypes).toContain('ReportBatchItemFailures');
      expect(mapping.bisectBatchOnFunctionError).toBe(true);
      expect(failureQueueArns.has(mapping.destinationConfig.onFailure.destinationArn), mapping.destinationConfig.onFailure.destinationArn).toBe(true);
      expect(mapping.startingPosition).toBe('TRIM_HORIZON');
      expect(mapping.maximumRecordAgeInSeconds).toBe(-1);
    }
  });

  it('grants no function a statement on every resource, except the reads IAM cannot scope (the dashboard’s CloudWatch and mapping reads among them)', () => {
    // Act
    const statements = [...plan.functions, plan.mappingFollower, plan.invokeInRelay, plan.dashboard].flatMap((fn) => fn.permissions.map((statement) => ({ fn: fn.manifest, ...statement })));

    // Assess
    for (const statement of statements) {
      for (const action of statement.actions) expect(action, statement.fn).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
      if (statement.resources.includes('*')) {
        expect(statement.resources, statement.fn).toEqual(['*']);
        const allowed: readonly string[] = statement.fn === 'dashboard-api' ? [...UNSCOPABLE_ACTIONS, ...DASHBOARD_UNSCOPABLE_ACTIONS] : UNSCOPABLE_ACTIONS;
        for (const action of statement.actions) expect(allowed, `${statement.fn} ${action}`).toContain(action);
      }
    }
  });

  it("grants each function exactly the tables and streams its manifest entry names, in its own region", () => {
    for (const fn of topology.functions) {
      // Prepare
      const plannedFunction = plan.functions.find((candidate) => candidate.manifest === fn.name)!;
      const references = Object.values(fn.env).filter((value) => typeof value !== 'string');
      const expectedTables = new Set(references.flatMap((value) => ('table' in value ? [`arn:aws:dynamodb:${plan.context.region}:${ACCOUNT}:table/rotor-prod-${value.table}`] : [])));
      const expectedStreams = new Set([
        ...references.flatMap((value) => ('stream' in value ? [value.stream] : [])),
        ...fn.triggers.flatMap((trigger) => (trigger.kind === 'kinesis' ? [trigger.stream] : [])),
      ].map((stream) => `arn:aws:kinesis:${plan.context.region}:${ACCOUNT}:stream/rotor-prod-${stream}`));

      // Act
      const granted = plannedFunction.permissions.flatMap((statement) => statement.resources);

      // Assess
      expect(new Set(granted.filter((arn) => arn.includes(':dynamodb:'))), fn.name).toEqual(expectedTables);
      expect(new Set(granted.filter((arn) => arn.includes(':kinesis:'))), fn.name).toEqual(expectedStreams);
    }
  });

  it('lets only the functions that declare a control-plane operation perform it', () => {
    // Act
    const writers = plan.functions.filter((fn) => fn.permissions.some((statement) => statement.actions.some((action) => action.startsWith('route53-recovery-cluster:Update'))));
    const switchers = plan.functions.filter((fn) => fn.permissions.some((statement) => statement.actions.some((action) => action.startsWith('rds:'))));

    // Assess
    expect(writers.map((fn) => fn.manifest)).toEqual(topology.functions.filter((fn) => fn.operates?.includes('routing-controls')).map((fn) => fn.name));
    expect(switchers.map((fn) => fn.manifest)).toEqual(topology.functions.filter((fn) => fn.operates?.includes('aurora-global-clusters')).map((fn) => fn.name));
  });

  it('gives every function a value for every variable, and the database and broker only through secrets', () => {
    for (const fn of plan.functions) {
      const manifestEntry = topology.functions.find((candidate) => candidate.name === fn.manifest)!;
      // Assess
      for (const variable of Object.keys(manifestEntry.env)) expect(fn.environment[variable], `${fn.manifest} ${variable}`).toBeDefined();
      expect(fn.environment.ROUTING_CONTROL_ENDPOINTS).toEqual({ routingControlEndpoints: true });
      const literals = Object.values(fn.environment).flatMap((value) => ('literal' in value ? [value.literal] : []));
      for (const literal of literals) expect(literal, fn.manifest).not.toMatch(/password|secret/i);
    }
  });

  it('invokes from each state machine only functions this deployment creates, in a region it deploys', () => {
    // Prepare
    const deployedArns = new Set(plans.flatMap((each) => [...each.functions, each.invokeInRelay].map((fn) => fn.arn)));

    // Act
    const invoked = plan.stateMachines.flatMap((machine) => machine.taskFunctionArns);

    // Assess
    expect(invoked.length).toBeGreaterThan(0);
    for (const arn of invoked) expect(deployedArns.has(arn), arn).toBe(true);
  });

  it("lets the mapping follower read this region's mappings and update only its gateways'", () => {
    // Prepare
    const gateways = topology.functions.filter((fn) => fn.triggers.some((trigger) => trigger.kind === 'mq' && trigger.enabledBy)).map((fn) => fn.name);

    // Act
    const lambdaStatements = plan.mappingFollower.permissions.filter((statement) => statement.actions.some((action) => action.startsWith('lambda:')));

    // Assess
    const updates = lambdaStatements.filter((statement) => statement.actions.includes('lambda:UpdateEventSourceMapping'));
    expect(lambdaStatements.flatMap((statement) => statement.actions).sort()).toEqual(['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping']);
    for (const statement of lambdaStatements) expect(statement.resources).toEqual([`arn:aws:lambda:${plan.context.region}:${ACCOUNT}:event-source-mapping:*`]);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.actions).toEqual(['lambda:UpdateEventSourceMapping']);
    expect(updates[0]!.conditions).toEqual([
      { test: 'ArnLike', variable: 'lambda:FunctionArn', values: gateways.map((name) => `arn:aws:lambda:${plan.context.region}:${ACCOUNT}:function:rotor-prod-${name}`) },
    ]);
  });

  it('lets state machines invoke only this region, and the relay exactly the functions they run in a region', () => {
    // Act
    const roleArns = plan.stateMachines.flatMap((machine) => machine.taskFunctionArns);
    const relayed = new Set(plan.stateMachines.flatMap((machine) => machine.relayedFunctionArns));
    const relayGrants = plan.invokeInRelay.permissions.flatMap((statement) => statement.resources).filter((arn) => !arn.endsWith(':*'));

    // Assess
    for (const arn of roleArns) expect(arn).toContain(`:lambda:${plan.context.region}:`);
    expect(roleArns).toContain(plan.invokeInRelay.arn);
    expect(new Set(relayGrants)).toEqual(relayed);
    expect(new Set([...relayed].map((arn) => arn.split(':')[3]))).toEqual(new Set(topology.regions));
  });

  it('starts a passive region with its gateways not consuming, following their queue control', () => {
    for (const mapping of plan.mqMappings) {
      expect(mapping.enabledBy, mapping.function).toMatch(new RegExp(`-queue-${plan.context.region}$`));
      expect(mapping.args.enabled).toBe(plan.context.isPrimary);
    }
  });
});

describe('global resources', () => {
  it('makes every safe store a global table with point-in-time recovery in every region', () => {
    // Act
    const safeStores = primary.tables.filter((table) => table.purpose === 'safe-store');

    // Assess
    expect(safeStores.length).toBe(topology.tables.filter((table) => table.purpose === 'safe-store').length);
    for (const table of safeStores) {
      expect(table.createdHere).toBe(true);
      expect(table.args.pointInTimeRecovery.enabled).toBe(true);
      expect(table.args.streamEnabled).toBe(true);
      expect(table.args.replicas.map((replica) => replica.regionName).sort()).toEqual(topology.regions.slice(1).sort());
      for (const replica of table.args.replicas) expect(replica.pointInTimeRecovery).toBe(true);
    }
  });

  it('creates global tables, Aurora writers and the ARC cluster once, in the primary stage only', () => {
    for (const secondary of secondaries) {
      expect(secondary.tables.some((table) => table.createdHere)).toBe(false);
      expect(secondary.databases.some((database) => database.writerHere)).toBe(false);
      expect(secondary.routing.createdHere).toBe(false);
    }
    expect(primary.routing.createdHere).toBe(true);
    expect(primary.databases.every((database) => database.writerHere)).toBe(true);
  });

  it('gives each region its own address range and peers every pair of regions exactly once', () => {
    // Act
    const ranges = plans.map((plan) => plan.network.cidr);
    const pairs = plans.flatMap((plan) => plan.network.peerings.map((peering) => [plan.context.region, peering.region].sort().join(' ↔ ')));

    // Assess
    expect(new Set(ranges).size).toBe(plans.length);
    for (const plan of plans) expect([...plan.network.admittedCidrs].sort()).toEqual([...ranges].sort());
    const expected = topology.regions.flatMap((region, index) => topology.regions.slice(index + 1).map((other) => [region, other].sort().join(' ↔ ')));
    expect(pairs.sort()).toEqual(expected.sort());
  });

  it('expires idempotency records by their TTL attribute', () => {
    for (const table of primary.tables.filter((candidate) => candidate.purpose === 'idempotency')) {
      const spec = topology.tables.find((candidate) => candidate.name === table.manifest)!;
      expect(table.args.ttl).toEqual({ attributeName: spec.ttlAttribute, enabled: true });
    }
  });

  it('names every physical resource the same way in every stage, so stages find each other without shared state', () => {
    // Act
    const namesByStage = plans.map((plan) => ({
      tables: plan.tables.map((table) => table.args.name),
      functions: plan.functions.map((fn) => fn.name),
      parameters: plan.routing.parameters,
    }));

    // Assess
    for (const names of namesByStage.slice(1)) expect(names).toEqual(namesByStage[0]);
  });
});
