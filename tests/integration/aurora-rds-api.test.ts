import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeGlobalClustersCommand, FailoverGlobalClusterCommand, SwitchoverGlobalClusterCommand, type RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuroraGlobalCoordinator } from '#local/global/aurora/index.ts';
import { globalClusterIdentifier, memberClusterIdentifier } from '#shared/topology/global-database-names.ts';
import { agentUrlOf, AURORA_DATABASE, regionSql, sqlStateOf, startAuroraRegion } from '#tests/support/aurora-regions.ts';
import { awaitWriter, describeGlobalCluster, faultOf, startRdsApiBench, writerRegionOf, type RdsApiBench } from '#tests/support/rds-api.ts';
import type { RegionProcess } from '#tests/support/region-process.ts';
import { waitFor } from '#tests/support/wait.ts';

/**
 * The twin's RDS API answering the real `@aws-sdk/client-rds`, over an Aurora global database whose regional
 * databases live in two region processes (the coordinator here stands where the twin's global layer runs it).
 */

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const LAG_MS = 200;
const GLOBAL_CLUSTER = globalClusterIdentifier(AURORA_DATABASE);
const arnOf = (region: string) => `arn:aws:rds:${region}:000000000000:cluster:${memberClusterIdentifier(AURORA_DATABASE, region)}`;

interface LedgerRow {
  id: string;
  amount: string;
}

describe("the twin's RDS API over an Aurora global database across region processes", () => {
  const regions = new Map<string, RegionProcess>();
  let scratch: string;
  let coordinator: AuroraGlobalCoordinator;
  let bench: RdsApiBench;
  let rds: RDSClient;
  let sequence = 0;

  const region = (name: string): RegionProcess => regions.get(name)!;
  const nextId = (): string => `RDS-${(sequence += 1)}`;
  const insertEntry = (target: RegionProcess, id: string, amount = '1') =>
    regionSql(target, 'insert into ledger_entry (id, account, amount) values ($1, $2, $3)', [id, 'ACC-1', amount]);
  const entriesOn = (target: RegionProcess, ids: readonly string[]) =>
    regionSql<LedgerRow>(target, 'select id, amount::text as amount from ledger_entry where id = any($1) order by id', [ids]);
  const caughtUp = async (): Promise<boolean> => (await coordinator.rpoLagMs()) === 0;

  async function startRegion(name: string): Promise<RegionProcess> {
    const started = await startAuroraRegion(name, path.join(scratch, name));
    regions.set(name, started);
    return started;
  }

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'rotor-rds-api-'));
    await Promise.all([startRegion(EAST), startRegion(WEST)]);
    coordinator = new AuroraGlobalCoordinator({
      name: AURORA_DATABASE,
      database: AURORA_DATABASE,
      regions: { [EAST]: agentUrlOf(region(EAST)), [WEST]: agentUrlOf(region(WEST)) },
      writer: EAST,
      schema: ['create table if not exists ledger_entry (id text primary key, account text not null, amount numeric not null)'],
      tables: ['public.ledger_entry'],
      stateDir: path.join(scratch, 'global'),
      lagMs: LAG_MS,
      pollMs: 20,
      superviseIntervalMs: 100,
    });
    await coordinator.start();
    bench = await startRdsApiBench([{ database: AURORA_DATABASE, model: coordinator }]);
    // A function in the region that survives a loss of us-east-1 signs for its own region.
    rds = bench.client(WEST);
  }, 120_000);

  afterAll(async () => {
    await bench?.close();
    await coordinator?.close();
    for (const running of regions.values()) running.child.kill('SIGKILL');
    await Promise.all([...regions.values()].map((running) => running.exited));
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('describes the global cluster as AWS does: one member cluster per region, named as the stacks name them, one writer', async () => {
    // Act
    const { GlobalClusters: all } = await rds.send(new DescribeGlobalClustersCommand({}));
    const named = await describeGlobalCluster(rds, GLOBAL_CLUSTER);

    // Assess
    expect(all).toEqual([named]);
    expect(named).toMatchObject({
      GlobalClusterIdentifier: 'rotor-ledger-db',
      GlobalClusterArn: 'arn:aws:rds::000000000000:global-cluster:rotor-ledger-db',
      Status: 'available',
      Engine: 'aurora-postgresql',
      GlobalClusterMembers: [
        { DBClusterArn: arnOf(EAST), IsWriter: true, Readers: [arnOf(WEST)], SynchronizationStatus: 'connected' },
        { DBClusterArn: arnOf(WEST), IsWriter: false, SynchronizationStatus: 'connected' },
      ],
    });
    expect(named.FailoverState).toBeUndefined();
  });

  it('answers unknown ids and impossible requests with the RDS faults', async () => {
    // Act
    const unknownGlobal = await faultOf(describeGlobalCluster(rds, 'rotor-nope'));
    const switchoverUnknownGlobal = await faultOf(rds.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: 'rotor-nope', TargetDbClusterIdentifier: arnOf(WEST) })));
    const unknownTarget = await faultOf(
      rds.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL_CLUSTER, TargetDbClusterIdentifier: memberClusterIdentifier('tm-db', WEST) })),
    );
    const toTheWriter = await faultOf(rds.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL_CLUSTER, TargetDbClusterIdentifier: arnOf(EAST) })));
    const both = await faultOf(
      rds.send(new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL_CLUSTER, TargetDbClusterIdentifier: arnOf(WEST), AllowDataLoss: true, Switchover: true })),
    );
    const unsupported = await fetch(bench.server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DeleteGlobalCluster&Version=2014-10-31&GlobalClusterIdentifier=rotor-ledger-db',
    });

    // Assess
    expect(unknownGlobal).toMatchObject({ name: 'GlobalClusterNotFoundFault', status: 404 });
    expect(switchoverUnknownGlobal).toMatchObject({ name: 'GlobalClusterNotFoundFault', status: 404 });
    expect(unknownTarget).toMatchObject({ name: 'DBClusterNotFoundFault', status: 404 });
    expect(toTheWriter).toMatchObject({ name: 'InvalidGlobalClusterStateFault', status: 400 });
    expect(both).toMatchObject({ name: 'InvalidParameterCombination', status: 400 });
    expect(unsupported.status).toBe(400);
    expect(await unsupported.text()).toMatch(/<ErrorResponse xmlns="http:\/\/rds\.amazonaws\.com\/doc\/2014-10-31\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/);
    expect(writerRegionOf(await describeGlobalCluster(rds, GLOBAL_CLUSTER)), 'nothing moved').toBe(EAST);
  });

  it('switches over asynchronously: the caller polls until the new writer is reported, and nothing committed is lost', async () => {
    // Prepare
    await waitFor(caughtUp, { what: 'replication to catch up' });
    const written = [nextId(), nextId(), nextId()];
    for (const id of written) await insertEntry(region(EAST), id, '12.50');
    // Held back until the switchover has been seen under way: it must wait for these writes to reach us-west-2.
    coordinator.pause();

    // Act
    const { GlobalCluster: accepted } = await rds.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL_CLUSTER, TargetDbClusterIdentifier: arnOf(WEST) }));
    const again = await faultOf(rds.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL_CLUSTER, TargetDbClusterIdentifier: arnOf(WEST) })));
    const underWay = await describeGlobalCluster(rds, GLOBAL_CLUSTER);
    const writeWhileSwitching = await sqlStateOf(insertEntry(region(EAST), nextId()));
    coordinator.resume();
    const { final } = await awaitWriter(rds, GLOBAL_CLUSTER, WEST);

    // Assess
    expect(accepted).toMatchObject({
      Status: 'switching-over',
      FailoverState: { Status: 'pending', FromDbClusterArn: arnOf(EAST), ToDbClusterArn: arnOf(WEST), IsDataLossAllowed: false },
    });
    expect(writerRegionOf(accepted!), 'the old writer is reported until the switchover completes').toBe(EAST);
    expect(again, 'a second switchover while one runs').toMatchObject({ name: 'InvalidGlobalClusterStateFault' });
    expect(underWay).toMatchObject({ Status: 'switching-over', FailoverState: { Status: 'failing-over' } });
    expect(writerRegionOf(underWay)).toBe(EAST);
    expect(writeWhileSwitching, 'a write during the switchover is refused, not lost').toBe('25006');
    expect(final.FailoverState).toBeUndefined();
    expect(final.GlobalClusterMembers).toMatchObject([{ DBClusterArn: arnOf(EAST), IsWriter: false }, { DBClusterArn: arnOf(WEST), IsWriter: true, Readers: [arnOf(EAST)] }]);
    expect(await entriesOn(region(WEST), written), 'every write committed before the switchover is on the new writer').toEqual(written.map((id) => ({ id, amount: '12.50' })));
    const afterwards = nextId();
    await insertEntry(region(WEST), afterwards);
    expect(await entriesOn(region(WEST), [afterwards])).toHaveLength(1);
    expect(await sqlStateOf(insertEntry(region(EAST), nextId())), 'the old writer is a read-only secondary').toBe('25006');
    expect(bench.api.lastOperation(AURORA_DATABASE)).toMatchObject({ kind: 'switchover', fromRegion: EAST, toRegion: WEST, outcome: 'succeeded' });
  });

  it("fails over with the old writer's region killed, losing exactly the unreplicated tail", { timeout: 90_000 }, async () => {
    // Prepare
    await waitFor(caughtUp, { what: 'replication to catch up' });
    const oldWriter = coordinator.writerRegion;
    const survivor = coordinator.secondaryRegions[0]!;
    const [kept, lost] = [nextId(), nextId()];
    await insertEntry(region(oldWriter), kept, '5');
    await waitFor(async () => (await entriesOn(region(survivor), [kept])).length === 1, { what: 'the kept entry on the secondary' });
    coordinator.pause();
    await insertEntry(region(oldWriter), lost, '7');
    await regionSql(region(oldWriter), 'update ledger_entry set amount = 6 where id = $1', [kept]);
    region(oldWriter).child.kill('SIGKILL');
    await region(oldWriter).exited;

    // Act
    const { GlobalCluster: accepted } = await rds.send(
      new FailoverGlobalClusterCommand({ GlobalClusterIdentifier: GLOBAL_CLUSTER, TargetDbClusterIdentifier: arnOf(survivor), AllowDataLoss: true }),
    );
    const { final } = await awaitWriter(rds, GLOBAL_CLUSTER, survivor);
    const onSurvivor = await entriesOn(region(survivor), [kept, lost]);
    const writeOnSurvivor = await sqlStateOf(insertEntry(region(survivor), nextId()));
    coordinator.resume();
    const restarted = await startRegion(oldWriter);
    const tail = await coordinator.reattach(oldWriter, { agentUrl: agentUrlOf(restarted) });
    const afterReattach = await describeGlobalCluster(rds, GLOBAL_CLUSTER);

    // Assess
    expect(accepted).toMatchObject({ Status: 'failing-over', FailoverState: { FromDbClusterArn: arnOf(oldWriter), ToDbClusterArn: arnOf(survivor), IsDataLossAllowed: true } });
    expect(final.GlobalClusterMembers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ DBClusterArn: arnOf(survivor), IsWriter: true }),
        expect.objectContaining({ DBClusterArn: arnOf(oldWriter), IsWriter: false, SynchronizationStatus: 'pending-resync' }),
      ]),
    );
    expect(onSurvivor, 'what the survivor had applied, and nothing after').toEqual([{ id: kept, amount: '5' }]);
    expect(writeOnSurvivor, 'the survivor accepts writes').toBeUndefined();
    expect(tail?.changes.map((change) => [change.op, change.primaryKey])).toEqual([
      ['INSERT', { id: lost }],
      ['UPDATE', { id: kept }],
    ]);
    expect(afterReattach.GlobalClusterMembers).toMatchObject(
      [EAST, WEST].map((name) => ({ DBClusterArn: arnOf(name), IsWriter: name === survivor, SynchronizationStatus: 'connected' })),
    );
  });
});
