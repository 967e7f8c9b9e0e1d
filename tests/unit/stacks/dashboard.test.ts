import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { topology } from '#shared/topology/index.ts';
import { planStage, regionCode, stageContext, type StagePlan } from '#stacks/plan/index.ts';

/** The operations dashboard as planned for every stage (stacks/plan/dashboard.ts): what its function is told and may do. */

const entry = readFileSync(new URL('../../../functions/operations/dashboard-api.ts', import.meta.url), 'utf8');
const required = [...entry.matchAll(/(?:requiredEnv|json<.*?>)\('([A-Z0-9_]+)'\)/g)].map((match) => match[1]!);

const plans: StagePlan[] = topology.regions.map((region) => planStage(topology, stageContext(`prod-${regionCode(region)}`, topology.regions, { account: '123456789012' })));

describe.each(plans.map((plan) => [plan.context.stage, plan] as const))('the dashboard of stage %s', (_stage, plan) => {
  it('sets every variable the dashboard function requires, and only those', () => {
    // Act
    const variables = Object.keys(plan.dashboard.environment).sort();

    // Assess
    expect(required.length).toBeGreaterThan(5);
    expect(variables).toEqual([...new Set(required)].sort());
  });

  it('knows every state machine in every region, so it lists and starts each region’s runbooks', () => {
    // Act
    const machines = JSON.parse((plan.dashboard.environment.DASHBOARD_STATE_MACHINES as { literal: string }).literal) as Record<string, Record<string, string>>;

    // Assess
    expect(Object.keys(machines)).toEqual(topology.regions);
    for (const region of topology.regions) {
      expect(Object.keys(machines[region]!).sort()).toEqual(plan.stateMachines.map((machine) => machine.manifest).sort());
      for (const arn of Object.values(machines[region]!)) expect(arn).toMatch(new RegExp(`^arn:aws:states:${region}:123456789012:stateMachine:rotor-prod-`));
    }
  });

  it('may start executions and flip routing controls, and writes no table, stream or queue', () => {
    // Act
    const actions = plan.dashboard.permissions.flatMap((statement) => statement.actions);

    // Assess
    expect(actions).toContain('states:StartExecution');
    expect(actions).toContain('route53-recovery-cluster:UpdateRoutingControlState');
    expect(actions.filter((action) => /^(dynamodb|kinesis|sqs|mq|rds):/.test(action))).toEqual([]);
    const secretGrant = plan.dashboard.permissions.find((statement) => statement.actions.includes('secretsmanager:GetSecretValue'));
    expect(secretGrant?.resources).toEqual([`arn:aws:secretsmanager:${plan.context.region}:123456789012:secret:rotor/prod/dashboard-token-*`]);
  });
});
