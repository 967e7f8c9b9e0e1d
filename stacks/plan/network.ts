import type { Topology } from '#shared/topology/index.ts';
import type { StageContext } from './stage.ts';

/**
 * Each region's VPC gets its own address range, so the regions' VPCs can be peered: an outbound gateway sends to
 * the other app's broker in whichever region is active, and a rotation forwards queued messages across, both over
 * private addresses. A stage peers with every region before it in the manifest (the secondary with the primary),
 * so each pair is peered once, by the stage deployed later.
 */

export interface NetworkPlan {
  readonly name: string;
  readonly cidr: string;
  readonly availabilityZones: 2;
  readonly publicSubnets: readonly string[];
  readonly privateSubnets: readonly string[];
  /** Every region's range: brokers and databases admit traffic from all of them. */
  readonly admittedCidrs: readonly string[];
  /** Regions this stage peers with, and the name and range of their VPCs. */
  readonly peerings: readonly { readonly region: string; readonly vpcName: string; readonly cidr: string }[];
}

const regionCidr = (index: number) => `10.${index + 1}.0.0/16`;
const vpcName = (context: Pick<StageContext, 'environment'>, region: string) => `rotor-${context.environment}-${region}`;

export function networkPlan(topology: Pick<Topology, 'regions'>, context: StageContext): NetworkPlan {
  const index = topology.regions.indexOf(context.region);
  const octet = index + 1;
  return {
    name: vpcName(context, context.region),
    cidr: regionCidr(index),
    availabilityZones: 2,
    publicSubnets: [`10.${octet}.0.0/20`, `10.${octet}.16.0/20`],
    privateSubnets: [`10.${octet}.128.0/19`, `10.${octet}.160.0/19`],
    admittedCidrs: topology.regions.map((_, each) => regionCidr(each)),
    peerings: topology.regions.slice(0, index).map((region, each) => ({ region, vpcName: vpcName(context, region), cidr: regionCidr(each) })),
  };
}
