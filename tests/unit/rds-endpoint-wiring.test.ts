import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portOwners, TwinLayout } from '#local/controller/twin-layout.ts';
import { RegionConfigurationError } from '#local/region/errors.ts';
import { sdkEnvironment } from '#local/region/function-environment.ts';
import { parseRegionArguments } from '#local/region/region-options.ts';
import { globalClusterIdentifier, memberClusterIdentifier, regionOfClusterArn } from '#shared/topology/global-database-names.ts';

/** How the twin's RDS API URL travels: a fixed port in the layout → the region's command line → every function's environment. */

const directories: string[] = [];
afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

const REGION_ENDPOINTS = { region: 'us-east-1', kinesis: 'http://127.0.0.1:1', dynamodb: 'http://127.0.0.1:2', broker: 'stomp://127.0.0.1:3' };

describe('the RDS endpoint of the twin', () => {
  it('is handed to every function as AWS_ENDPOINT_URL_RDS when the region has one, and left out otherwise', () => {
    // Act
    const withRds = sdkEnvironment({ ...REGION_ENDPOINTS, rds: 'http://127.0.0.1:4' });
    const withoutRds = sdkEnvironment(REGION_ENDPOINTS);

    // Assess
    expect(withRds.AWS_ENDPOINT_URL_RDS).toBe('http://127.0.0.1:4');
    expect(withoutRds).not.toHaveProperty('AWS_ENDPOINT_URL_RDS');
  });

  it('reaches the region process as --rds-endpoint, which must be an http URL', () => {
    // Prepare
    const base = ['--region', 'us-east-1', '--data-dir', '/tmp/x'];

    // Act
    const parsed = parseRegionArguments([...base, '--rds-endpoint', 'http://127.0.0.1:4567'], {});
    const absent = parseRegionArguments(base, {});
    const invalid = () => parseRegionArguments([...base, '--rds-endpoint', 'not a url'], {});

    // Assess
    expect(parsed.rdsEndpoint).toBe('http://127.0.0.1:4567');
    expect(absent.rdsEndpoint).toBeUndefined();
    expect(invalid).toThrow(RegionConfigurationError);
    expect(invalid).toThrow(/--rds-endpoint/);
  });

  it('gets a fixed port of its own, also in a twin saved before the RDS API existed, kept on every start', async () => {
    // Prepare
    const fresh = await mkdtemp(path.join(tmpdir(), 'rotor-layout-'));
    const old = await mkdtemp(path.join(tmpdir(), 'rotor-layout-'));
    directories.push(fresh, old);
    const first = await new TwinLayout(fresh).portsFor(['us-east-1', 'us-west-2'], 'rotor');
    const { rds: _dropped, ...withoutRds } = first;
    await writeFile(path.join(old, 'twin.json'), JSON.stringify({ regions: ['us-east-1', 'us-west-2'], topology: 'rotor', ports: withoutRds }));

    // Act
    const upgraded = await new TwinLayout(old).portsFor(['us-east-1', 'us-west-2'], 'rotor');
    const again = await new TwinLayout(old).portsFor(['us-east-1', 'us-west-2'], 'rotor');

    // Assess
    const others = portOwners(first, ['us-east-1', 'us-west-2']).filter((owner) => owner.port !== first.rds).map((owner) => owner.port);
    expect(others).not.toContain(first.rds);
    expect(portOwners(first, ['us-east-1', 'us-west-2'])).toContainEqual({ port: first.rds, component: 'RDS API (Aurora global databases)' });
    expect(upgraded).toEqual({ ...withoutRds, rds: expect.any(Number) });
    expect(again).toEqual(upgraded);
    expect(JSON.parse(await readFile(path.join(old, 'twin.json'), 'utf8')).ports.rds).toBe(upgraded.rds);
  });

  it('names the global cluster and its members the same way on both sides, and finds a member region by its ARN', () => {
    // Act
    const names = [globalClusterIdentifier('tm-db'), memberClusterIdentifier('tm-db', 'us-west-2')];

    // Assess
    expect(names).toEqual(['rotor-tm-db', 'rotor-tm-db-us-west-2']);
    expect(regionOfClusterArn('arn:aws:rds:us-west-2:123456789012:cluster:rotor-tm-db-us-west-2')).toBe('us-west-2');
    expect(regionOfClusterArn('arn:aws-cn:rds:cn-north-1:123456789012:cluster:x')).toBe('cn-north-1');
    expect(regionOfClusterArn('arn:aws:rds::123456789012:global-cluster:rotor-tm-db')).toBeUndefined();
    expect(regionOfClusterArn('rotor-tm-db-us-west-2')).toBeUndefined();
  });
});
