import type { StagePlan } from './plan/index.ts';
import { logicalName } from './names.ts';

/**
 * The rotation, disaster-recovery and reconciliation state machines, in every region, from `workflows/` with each
 * task's function rendered as an ARN (stacks/plan/workflows.ts). Each role may invoke only the functions its
 * machine calls, in the regions it may call them.
 */
export function createWorkflows(plan: StagePlan) {
  return plan.stateMachines.map((machine) => {
    const role = new aws.iam.Role(logicalName('Workflow', machine.manifest, 'role'), {
      assumeRolePolicy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
      inlinePolicies: [
        {
          name: 'invoke-tasks',
          policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: machine.taskFunctionArns.flatMap((arn) => [arn, `${arn}:*`]) }],
          }),
        },
      ],
    });
    return new aws.sfn.StateMachine(logicalName('Workflow', machine.manifest), {
      name: machine.name,
      type: 'STANDARD',
      roleArn: role.arn,
      definition: machine.definition,
    });
  });
}
