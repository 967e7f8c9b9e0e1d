/**
 * The region's VPC: the broker and the Aurora cluster live in its private subnets, and so do the functions that
 * reach them. SST's VPC security group admits traffic from inside the VPC only.
 */
export function createNetwork() {
  return new sst.aws.Vpc('Network', { az: 2, nat: 'managed' });
}

export type Network = ReturnType<typeof createNetwork>;
