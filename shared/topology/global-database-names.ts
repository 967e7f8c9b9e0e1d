/**
 * The AWS names of a manifest database deployed as an Aurora Global Database, in one place so the stacks that
 * create it, the functions that switch it over and the twin's RDS API that serves it cannot disagree:
 *
 *   global cluster   rotor-<database>            e.g. rotor-tm-db
 *   member cluster   rotor-<database>-<region>   e.g. rotor-tm-db-us-east-1 (one per region, one writer)
 */

const PREFIX = 'rotor';

export function globalClusterIdentifier(database: string): string {
  return `${PREFIX}-${database}`;
}

export function memberClusterIdentifier(database: string, region: string): string {
  return `${PREFIX}-${database}-${region}`;
}

/**
 * The region of a DB cluster ARN (`arn:<partition>:rds:<region>:<account>:cluster:<id>`); undefined for anything
 * else. Members are matched to regions by their ARN, which AWS defines, rather than by our naming convention, so a
 * cluster imported under another name is still found.
 */
export function regionOfClusterArn(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'rds' || parts[5] !== 'cluster') return undefined;
  return parts[3] || undefined;
}
