import type { Topology } from '#shared/topology/index.ts';
import { alarmPlans, type AlarmPlan } from './alarms.ts';
import { brokerPlan, databasePlans, failureQueuePlans, streamPlans, tablePlans, type BrokerPlan, type DatabasePlan, type FailureQueuePlan, type StreamPlan, type TablePlan } from './data.ts';
import { dashboardPlan, type DashboardPlan } from './dashboard.ts';
import { fixGatewayPlan, type FixGatewayPlan } from './fix-gateway.ts';
import { functionPlans, type FunctionPlan } from './functions.ts';
import { kinesisMappingPlans, mappingFollowerPlan, mqMappingPlans, type KinesisMappingPlan, type MqMappingPlan } from './mappings.ts';
import { networkPlan, type NetworkPlan } from './network.ts';
import { routingPlan, type RoutingPlan } from './routing.ts';
import { isPermanent, type StageContext } from './stage.ts';
import { invokeInRelayPlan, stateMachinePlans, type StateMachinePlan } from './workflows.ts';

/**
 * Everything one stage deploys, as data: the stack files create exactly these resources and nothing else, and the
 * policy tests (tests/unit/stacks/) hold this plan to Rotor's rules for every stage of the manifest.
 */

export interface StagePlan {
  readonly context: StageContext;
  readonly network: NetworkPlan;
  readonly streams: readonly StreamPlan[];
  readonly tables: readonly TablePlan[];
  readonly failureQueues: readonly FailureQueuePlan[];
  readonly broker: BrokerPlan;
  readonly databases: readonly DatabasePlan[];
  readonly functions: readonly FunctionPlan[];
  readonly kinesisMappings: readonly KinesisMappingPlan[];
  readonly mqMappings: readonly MqMappingPlan[];
  readonly mappingFollower: ReturnType<typeof mappingFollowerPlan>;
  readonly stateMachines: readonly StateMachinePlan[];
  /** Runs a workflow task in another region for the execution (Step Functions invokes only its own region's Lambda). */
  readonly invokeInRelay: FunctionPlan;
  readonly routing: RoutingPlan;
  readonly alarms: readonly AlarmPlan[];
  readonly fixGateway: FixGatewayPlan;
  /** The operations dashboard: static UI and its API behind one distribution, in every region. */
  readonly dashboard: DashboardPlan;
}

export interface PlanOptions {
  /** Reads and parses a `workflows/*.asl.json` file by its manifest path. */
  readonly readDefinition?: (path: string) => unknown;
}

export function planStage(topology: Topology, context: StageContext, options: PlanOptions = {}): StagePlan {
  const broker = brokerPlan(topology, context);
  const databases = databasePlans(topology, context);
  const stateMachines = stateMachinePlans(topology, context, options.readDefinition);
  const tables = tablePlans(topology, context, { deletionProtection: isPermanent(context) });
  return {
    context,
    network: networkPlan(topology, context),
    streams: streamPlans(topology, context),
    tables,
    failureQueues: failureQueuePlans(topology, context),
    broker,
    databases,
    functions: functionPlans(topology, context, { broker, databases }),
    kinesisMappings: kinesisMappingPlans(topology, context),
    mqMappings: mqMappingPlans(topology, context),
    mappingFollower: mappingFollowerPlan(topology, context),
    stateMachines,
    invokeInRelay: invokeInRelayPlan(topology, context, stateMachines),
    routing: routingPlan(topology, context),
    alarms: alarmPlans(topology, context, { broker, databases }),
    fixGateway: fixGatewayPlan(context, { broker }),
    dashboard: dashboardPlan(context, { tables, databases, stateMachines }),
  };
}

export { stageContext, stageIdentity, physicalName, arnOf, regionCode, isPermanent, InvalidStageError, type StageContext } from './stage.ts';
