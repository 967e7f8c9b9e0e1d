import { describe, expect, it } from 'vitest';
import { functionEnvironment } from '#local/region/function-environment.ts';
import { appResources, resourceNamesFromEnv } from '#shared/operations/app-resources.ts';
import { CANARY_QUEUE, CANARY_STORE } from '#shared/operations/canary.ts';
import { resourceVariable } from '#shared/topology/resource-variables.ts';
import { topology } from '#shared/topology/index.ts';

const APPS = ['trade-matching', 'settlement'] as const;
const fn = (name: string) => topology.functions.find((candidate) => candidate.name === name);

/** What the twin hands the function in us-east-1 when regions share one broker. */
const twinEnvironment = (name: string) =>
  functionEnvironment(
    fn(name)!,
    { region: 'us-east-1', kinesis: 'http://kinesis', dynamodb: 'http://dynamodb', broker: 'stomp://broker:61613' },
    { databaseConnectionStrings: new Map([['tm-db', 'pglite:/data/tm-db'], ['sm-db', 'pglite:/data/sm-db']]), queuePrefix: 'us-east-1.' },
  );

describe('the rotation task functions in the manifest', () => {
  it('declares ops-routing, ops-drain-check, ops-digest and ops-canary once each, with their handler modules', () => {
    // Assess
    for (const task of ['routing', 'drain-check', 'digest', 'canary']) {
      expect(topology.functions.filter((candidate) => candidate.name === `ops-${task}`), task).toHaveLength(1);
      expect(fn(`ops-${task}`)!.handler).toBe(`functions/operations/${task}.handler`);
    }
  });

  it.each([
    ['rotation', ['ops-routing', 'ops-drain-check', 'ops-reconcile', 'ops-replay', 'ops-report', 'ops-switchover', 'ops-digest', 'ops-canary']],
    ['disaster-recovery', ['ops-routing', 'ops-switchover', 'ops-reconcile', 'ops-replay', 'ops-report', 'ops-digest', 'ops-canary']],
  ])('lets every %s state machine call its tasks', (workflow, tasks) => {
    // Assess
    for (const app of ['tm', 'sm']) expect(topology.stateMachines.find((machine) => machine.name === `${app}-${workflow}`)?.tasks).toEqual(tasks);
  });

  it.each(APPS)('gives ops-drain-check every inbound queue and safe store of %s, as this region names them', (app) => {
    // Prepare
    const names = resourceNamesFromEnv(twinEnvironment('ops-drain-check'));
    const { inboundQueues, safeStores } = appResources(topology, app);

    // Assess
    expect(inboundQueues).toEqual(app === 'trade-matching' ? ['tm.trades', 'tm.settlements'] : ['sm.settlements']);
    expect(safeStores).toHaveLength(5);
    for (const queue of inboundQueues) expect(names('queue', queue)).toBe(`us-east-1.${queue}`);
    for (const table of safeStores) expect(names('table', table)).toBe(table);
  });

  it.each(APPS)('gives ops-digest every safe store and the database of %s', (app) => {
    // Prepare
    const names = resourceNamesFromEnv(twinEnvironment('ops-digest'));
    const { safeStores, databases } = appResources(topology, app);

    // Assess
    expect(databases).toEqual([app === 'trade-matching' ? 'tm-db' : 'sm-db']);
    for (const table of safeStores) expect(names('table', table)).toBe(table);
    expect(names('database', databases[0]!)).toBe(`pglite:/data/${databases[0]}`);
  });

  it('gives ops-canary the tm.trades queue and the matching store it watches', () => {
    // Prepare
    const names = resourceNamesFromEnv(twinEnvironment('ops-canary'));

    // Assess
    expect(names('queue', CANARY_QUEUE)).toBe('us-east-1.tm.trades');
    expect(names('table', CANARY_STORE)).toBe('tm-matching-store');
  });

  it('names resource variables mechanically, by kind and name', () => {
    // Assess
    expect(resourceVariable('table', 'tm-inbound-gateway-store')).toBe('TABLE_TM_INBOUND_GATEWAY_STORE');
    expect(resourceVariable('queue', 'tm.trades')).toBe('QUEUE_TM_TRADES');
    expect(resourceVariable('database', 'sm-db')).toBe('DATABASE_SM_DB');
  });
});
