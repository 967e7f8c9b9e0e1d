/// <reference path="./.sst/platform/config.d.ts" />

/**
 * Rotor on AWS: one stage per region of one environment (`prod-use1`, `prod-usw2`), each deployed with
 * `sst deploy --stage <stage>`, the primary region's stage first. docs/deploy.md.
 *
 * SST evaluates `app()` before anything is installed and forbids top-level imports, so the stage → region rule is
 * written out here; tests/unit/stacks/sst-config.test.ts holds it equal to stacks/plan/stage.ts and the manifest.
 */
export const STAGE_REGIONS: Record<string, string> = { use1: 'us-east-1', usw2: 'us-west-2' };

export default $config({
  app(input) {
    const stage = input?.stage ?? '';
    const region = STAGE_REGIONS[stage.slice(stage.lastIndexOf('-') + 1)];
    if (!region || stage.lastIndexOf('-') <= 0) {
      throw new Error(`stage "${stage}" must be <environment>-<region code>, the code one of ${Object.keys(STAGE_REGIONS).join(', ')} (e.g. prod-use1)`);
    }
    const permanent = stage.startsWith('prod-');
    return {
      name: 'rotor',
      home: 'aws',
      removal: permanent ? 'retain' : 'remove',
      protect: permanent,
      providers: { aws: { region: region as 'us-east-1', version: '7.20.0' }, random: '4.16.6' },
    };
  },
  async run() {
    const { deployStage } = await import('./stacks/index.ts');
    return deployStage();
  },
});
