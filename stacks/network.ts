import type { StagePlan } from './plan/index.ts';
import { logicalName } from './names.ts';

/**
 * The region's VPC (stacks/plan/network.ts): two public subnets with a NAT gateway each, two private subnets where
 * the broker, the Aurora cluster and the functions that reach them live, one security group admitting every Rotor
 * region's range, and a peering with each region before this one in the manifest, routed both ways.
 */
export function createNetwork(plan: StagePlan) {
  const network = plan.network;
  const zones = aws.getAvailabilityZonesOutput({ state: 'available' }).names;
  const vpc = new aws.ec2.Vpc('Network', { cidrBlock: network.cidr, enableDnsSupport: true, enableDnsHostnames: true, tags: { Name: network.name } });
  const gateway = new aws.ec2.InternetGateway('NetworkGateway', { vpcId: vpc.id });
  const publicRoutes = new aws.ec2.RouteTable('NetworkPublicRoutes', { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }] });

  const privateSubnets = network.privateSubnets.map((cidr, index) => {
    const zone = zones.apply((names) => names[index]!);
    const publicSubnet = new aws.ec2.Subnet(logicalName('NetworkPublic', `${index + 1}`), { vpcId: vpc.id, cidrBlock: network.publicSubnets[index]!, availabilityZone: zone, mapPublicIpOnLaunch: false });
    new aws.ec2.RouteTableAssociation(logicalName('NetworkPublicRoutes', `${index + 1}`), { subnetId: publicSubnet.id, routeTableId: publicRoutes.id });
    const nat = new aws.ec2.NatGateway(logicalName('NetworkNat', `${index + 1}`), {
      subnetId: publicSubnet.id,
      allocationId: new aws.ec2.Eip(logicalName('NetworkNatAddress', `${index + 1}`), { domain: 'vpc' }).id,
    });
    const subnet = new aws.ec2.Subnet(logicalName('NetworkPrivate', `${index + 1}`), { vpcId: vpc.id, cidrBlock: cidr, availabilityZone: zone, tags: { 'rotor:tier': 'private' } });
    // Routes are resources of their own, so the peerings' routes can join this table without replacing it.
    const routes = new aws.ec2.RouteTable(logicalName('NetworkPrivateRoutes', `${index + 1}`), { vpcId: vpc.id, tags: { 'rotor:tier': 'private' } });
    new aws.ec2.Route(logicalName('NetworkPrivateOut', `${index + 1}`), { routeTableId: routes.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id });
    new aws.ec2.RouteTableAssociation(logicalName('NetworkPrivateRoutesOf', `${index + 1}`), { subnetId: subnet.id, routeTableId: routes.id });
    return { subnet, routes };
  });

  const securityGroup = new aws.ec2.SecurityGroup('NetworkSecurityGroup', {
    vpcId: vpc.id,
    description: 'Rotor: traffic from any Rotor region, anything out',
    ingress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: [...network.admittedCidrs] }],
    egress: [{ protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] }],
  });

  for (const peering of network.peerings) {
    const peerVpc = aws.ec2.getVpcOutput({ tags: { Name: peering.vpcName }, region: peering.region });
    const connection = new aws.ec2.VpcPeeringConnection(logicalName('Peering', peering.region), {
      vpcId: vpc.id,
      peerVpcId: peerVpc.id,
      peerRegion: peering.region,
      tags: { Name: `${network.name}-to-${peering.region}` },
    });
    new aws.ec2.VpcPeeringConnectionAccepter(logicalName('PeeringAccepted', peering.region), { vpcPeeringConnectionId: connection.id, autoAccept: true, region: peering.region });
    privateSubnets.forEach(({ routes }, index) => {
      new aws.ec2.Route(logicalName('PeeringRoute', peering.region, `${index + 1}`), { routeTableId: routes.id, destinationCidrBlock: peering.cidr, vpcPeeringConnectionId: connection.id });
    });
    // The peer's stage was deployed first, so its private route tables (one per zone) can be looked up by tag.
    const peerRoutes = aws.ec2.getRouteTablesOutput({ vpcId: peerVpc.id, tags: { 'rotor:tier': 'private' }, region: peering.region });
    for (let index = 0; index < network.availabilityZones; index += 1) {
      new aws.ec2.Route(logicalName('PeeringRouteBack', peering.region, `${index + 1}`), {
        routeTableId: peerRoutes.ids.apply((ids) => [...ids].sort()[index]!),
        destinationCidrBlock: network.cidr,
        vpcPeeringConnectionId: connection.id,
        region: peering.region,
      });
    }
  }

  return {
    vpcId: vpc.id,
    privateSubnets: $util.all(privateSubnets.map(({ subnet }) => subnet.id)),
    securityGroups: $util.output([securityGroup.id]),
  };
}

export type Network = ReturnType<typeof createNetwork>;
