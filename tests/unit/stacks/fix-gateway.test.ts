import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topology } from '#shared/topology/index.ts';
import { FIX_TABLES } from '#shared/topology/rotor.ts';
import { planStage, regionCode, stageContext, type StagePlan } from '#stacks/plan/index.ts';
import { UNSCOPABLE_ACTIONS } from '#stacks/plan/functions.ts';

/** The FIX gateway's ECS service, as planned for every stage of the manifest (stacks/plan/fix-gateway.ts). */

/** The variables the gateway process documents at its top, and those it requires. */
const gatewayMain = readFileSync(new URL('../../../local/fix/gateway-main.ts', import.meta.url), 'utf8');
const documented = new Set(
  [...(/^\/\*\*([\s\S]*?)\*\//.exec(gatewayMain)?.[1] ?? '').matchAll(/^ \*   ([A-Z][A-Z0-9_]*(?:, [A-Z][A-Z0-9_]*)*)\s/gm)].flatMap((match) => match[1]!.split(', ')),
);
const requiredByGateway = [...gatewayMain.matchAll(/required\('([A-Z0-9_]+)'\)/g)].map((match) => match[1]!);

const plans: StagePlan[] = topology.regions.map((region) => planStage(topology, stageContext(`prod-${regionCode(region)}`, topology.regions, { account: '123456789012' })));

describe.each(plans.map((plan) => [plan.context.stage, plan] as const))('the FIX gateway of stage %s', (_stage, plan) => {
  it('runs a leader and a hot standby in the private subnets, behind an internal balancer that checks the FIX port', () => {
    // Act
    const gateway = plan.fixGateway;

    // Assess
    expect(gateway.tasks).toBe(2);
    expect(gateway.subnets).toBe('private');
    expect(gateway.loadBalancer.public).toBe(false);
    expect(gateway.environment.FIX_PORT).toEqual({ literal: String(gateway.port) });
    expect(gateway.command.at(-1)).toBe('local/fix/gateway-main.ts');
  });

  it('sets only variables the gateway process documents, every one it requires among them', () => {
    // Act
    const variables = Object.keys(plan.fixGateway.environment);

    // Assess
    expect(documented.size).toBeGreaterThan(5);
    for (const variable of variables) expect(documented, variable).toContain(variable);
    expect(requiredByGateway.length).toBeGreaterThan(0);
    for (const variable of requiredByGateway) expect(variables).toContain(variable);
  });

  it('grants DynamoDB on exactly the FIX tables this stage has, in its own region, and nothing on every resource but unscopable reads', () => {
    // Prepare
    const fixTableArns = plan.tables.filter((table) => (Object.values(FIX_TABLES) as string[]).includes(table.manifest)).map((table) => table.arn);

    // Act
    const statements = plan.fixGateway.permissions;

    // Assess
    expect(fixTableArns).toHaveLength(3);
    const dynamo = statements.filter((statement) => statement.actions.some((action) => action.startsWith('dynamodb:')));
    expect(dynamo.flatMap((statement) => statement.resources).sort()).toEqual([...fixTableArns].sort());
    for (const arn of fixTableArns) expect(arn).toContain(`:${plan.context.region}:`);
    for (const statement of statements.filter((candidate) => candidate.resources.includes('*'))) {
      expect(statement.resources).toEqual(['*']);
      for (const action of statement.actions) expect(UNSCOPABLE_ACTIONS).toContain(action);
    }
  });

  it('reads only the broker credentials among the secrets, and names the tables the stage creates', () => {
    // Act
    const gateway = plan.fixGateway;
    const secretResources = gateway.permissions.filter((statement) => statement.actions.some((action) => action.startsWith('secretsmanager:')));

    // Assess
    expect(secretResources.flatMap((statement) => statement.actions)).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretResources.flatMap((statement) => statement.resources)).toEqual(plan.broker.credentialsSecretArnPatterns);
    const tableNames = new Set(plan.tables.map((table) => table.args.name));
    for (const variable of ['FIX_STORE_TABLE', 'FIX_SESSIONS_TABLE', 'FIX_LEASE_TABLE']) {
      const value = gateway.environment[variable];
      expect(value && 'literal' in value && tableNames.has(value.literal), variable).toBe(true);
    }
  });
});
