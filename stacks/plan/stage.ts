/**
 * One SST stage is one region of one Rotor environment: `prod-use1` is environment `prod` in us-east-1. The first
 * region of the manifest is the primary: its stage creates what exists once (global tables and their replicas,
 * Aurora global clusters, the ARC cluster); the other regions' stages find those by the fixed names derived here.
 *
 * Every physical name comes from a manifest name and the environment, so two stages, the functions reading their
 * environment and the state machines invoking functions in another region agree without sharing Pulumi state.
 */

export class InvalidStageError extends Error {
  override readonly name = 'InvalidStageError';
}

export interface StageIdentity {
  /** The SST stage, e.g. `prod-use1`. */
  readonly stage: string;
  /** The stage without its region code, e.g. `prod`; shared by all regions of one deployment. */
  readonly environment: string;
  readonly region: string;
}

export interface StageContext extends StageIdentity {
  readonly regions: readonly string[];
  readonly primaryRegion: string;
  readonly isPrimary: boolean;
  /** The other regions of the deployment, in manifest order. */
  readonly peerRegions: readonly string[];
  readonly account: string;
  readonly partition: string;
}

const DIRECTIONS: Record<string, string> = {
  east: 'e', west: 'w', north: 'n', south: 's', central: 'c',
  northeast: 'ne', northwest: 'nw', southeast: 'se', southwest: 'sw',
};

/** `us-east-1` → `use1`, `ap-southeast-2` → `apse2`: the suffix operators put on stage names. */
export function regionCode(region: string): string {
  const match = /^([a-z]{2})-([a-z]+)-(\d+)$/.exec(region);
  const direction = match ? DIRECTIONS[match[2]!] : undefined;
  if (!match || direction === undefined) throw new InvalidStageError(`${region} is not an AWS region name`);
  return `${match[1]}${direction}${match[3]}`;
}

/** Which of `regions` a stage name deploys, from its last `-`-separated part. */
export function stageIdentity(stage: string, regions: readonly string[]): StageIdentity {
  const cut = stage.lastIndexOf('-');
  const environment = stage.slice(0, cut);
  const code = stage.slice(cut + 1);
  const region = regions.find((candidate) => regionCode(candidate) === code);
  if (cut <= 0 || !/^[a-z][a-z0-9]{0,15}$/.test(environment) || region === undefined) {
    const examples = regions.map((candidate) => `prod-${regionCode(candidate)}`).join(', ');
    throw new InvalidStageError(`stage "${stage}" must be <environment>-<region code> for a region of the manifest, e.g. ${examples}`);
  }
  return { stage, environment, region };
}

export function stageContext(stage: string, regions: readonly string[], account: { account: string; partition?: string }): StageContext {
  const identity = stageIdentity(stage, regions);
  const primaryRegion = regions[0]!;
  return {
    ...identity,
    regions,
    primaryRegion,
    isPrimary: identity.region === primaryRegion,
    peerRegions: regions.filter((region) => region !== identity.region),
    account: account.account,
    partition: account.partition ?? 'aws',
  };
}

/**
 * `prod` is kept: deletion protection on, removal retains, final snapshots taken. sst.config.ts says the same of
 * `prod-*` stages (tests/unit/stacks/sst-config.test.ts).
 */
export function isPermanent(context: Pick<StageIdentity, 'environment'>): boolean {
  return context.environment === 'prod';
}

/** `rotor-<environment>-<manifest name>`: tables, streams, queues and functions, the same in every region. */
export function physicalName(context: Pick<StageIdentity, 'environment'>, manifestName: string): string {
  return `rotor-${context.environment}-${manifestName.replace(/[^A-Za-z0-9-]/g, '-')}`;
}

type ArnContext = Pick<StageContext, 'environment' | 'region' | 'account' | 'partition'>;

/** ARNs of the resources a stage creates from the manifest, in the stage's region unless another is named. */
export const arnOf = {
  table: (c: ArnContext, table: string, region = c.region) => `arn:${c.partition}:dynamodb:${region}:${c.account}:table/${physicalName(c, table)}`,
  stream: (c: ArnContext, stream: string, region = c.region) => `arn:${c.partition}:kinesis:${region}:${c.account}:stream/${physicalName(c, stream)}`,
  sqsQueue: (c: ArnContext, queue: string, region = c.region) => `arn:${c.partition}:sqs:${region}:${c.account}:${physicalName(c, queue)}`,
  function: (c: ArnContext, fn: string, region = c.region) => `arn:${c.partition}:lambda:${region}:${c.account}:function:${physicalName(c, fn)}`,
  stateMachine: (c: ArnContext, machine: string, region = c.region) => `arn:${c.partition}:states:${region}:${c.account}:stateMachine:${physicalName(c, machine)}`,
};
