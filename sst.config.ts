/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Rotor on AWS: one stage per region (`prod-use1`, `prod-usw2`, …), each deployed with `sst deploy --stage <stage>`.
 * The resources come from `shared/topology` through `stacks/` as they land; today the app only pins its region.
 */
export default $config({
  app(input) {
    const regions: Record<string, string> = { use1: 'us-east-1', use2: 'us-east-2', usw2: 'us-west-2', euw1: 'eu-west-1' };
    const suffix = input?.stage?.split('-').pop() ?? '';
    return {
      name: 'rotor',
      home: 'aws',
      removal: input?.stage?.startsWith('prod') ? 'retain' : 'remove',
      protect: input?.stage?.startsWith('prod') ?? false,
      providers: { aws: { region: (regions[suffix] ?? 'us-east-1') as 'us-east-1' } },
    };
  },
  async run() {
    return {};
  },
});
