import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topology } from '#shared/topology/index.ts';
import { InvalidStageError, isPermanent, regionCode, stageIdentity } from '#stacks/plan/stage.ts';

/**
 * sst.config.ts must spell out its stage → region rule (SST evaluates `app()` with no imports). This holds it equal
 * to stacks/plan/stage.ts for every region of the manifest. `$config` is SST's global; here it returns its input.
 */

interface AppConfig {
  app(input: { stage: string }): { providers: { aws: { region: string } }; removal: string; protect: boolean };
}

let config: AppConfig;
let stageRegions: Record<string, string>;
const globals = globalThis as { $config?: (input: unknown) => unknown };

beforeAll(async () => {
  globals.$config = (input) => input;
  // A computed specifier keeps tsc from following the import: the file needs SST's generated types.
  const file = '../../../sst.config.ts';
  const module = (await import(/* @vite-ignore */ file)) as { default: AppConfig; STAGE_REGIONS: Record<string, string> };
  config = module.default;
  stageRegions = module.STAGE_REGIONS;
});
afterAll(() => {
  delete globals.$config;
});

describe('sst.config.ts', () => {
  it('knows exactly the manifest regions, by the codes stacks/plan/stage.ts derives', () => {
    expect(stageRegions).toEqual(Object.fromEntries(topology.regions.map((region) => [regionCode(region), region])));
  });

  it.each(topology.regions)('deploys a stage of %s to that region, as the stacks read it', (region) => {
    // Prepare
    const stage = `prod-${regionCode(region)}`;

    // Act
    const app = config.app({ stage });

    // Assess
    expect(app.providers.aws.region).toBe(region);
    expect(stageIdentity(stage, topology.regions)).toEqual({ stage, environment: 'prod', region });
    expect(app.protect).toBe(isPermanent(stageIdentity(stage, topology.regions)));
    expect(app.removal).toBe('retain');
  });

  it('lets a non-production stage be removed, as the stacks treat it', () => {
    expect(isPermanent(stageIdentity('dev-usw2', topology.regions))).toBe(false);
    expect(config.app({ stage: 'dev-usw2' })).toMatchObject({ removal: 'remove', protect: false });
  });

  it.each(['prod', 'prod-euw1', '-use1', ''])('refuses the stage %j with the form it expects', (stage) => {
    expect(() => config.app({ stage })).toThrow(/<environment>-<region code>/);
    expect(() => stageIdentity(stage, topology.regions)).toThrow(InvalidStageError);
  });
});
