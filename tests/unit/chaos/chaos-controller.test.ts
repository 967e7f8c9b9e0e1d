import { describe, expect, it } from 'vitest';
import { experiments } from '#local/chaos/catalogue.ts';
import { ChaosController, ExperimentAlreadyRunningError, UnknownExperimentError } from '#local/chaos/chaos-controller.ts';
import type { ChaosTwin } from '#local/chaos/chaos-twin.ts';

/**
 * The catalogue and the chaos controller's API (what the control endpoint and the dashboard call), over a twin whose
 * global layer records what it was told. Region faults and outages are exercised against real region processes in
 * tests/integration/chaos-region-faults.test.ts and the matrix.
 */

function recordingTwin() {
  const calls: string[] = [];
  const running = [true, true, true];
  const twin: ChaosTwin = {
    regions: ['us-east-1', 'us-west-2'],
    activeRegion: () => 'us-east-1',
    // No region is up: region faults have nowhere to go, which the global-layer experiments do not need.
    region: () => ({ state: 'down' }),
    killRegion: async (region) => calls.push(`kill ${region}`),
    startRegion: async (region) => calls.push(`start ${region}`),
    globalTables: { pause: () => calls.push('tables pause'), resume: () => calls.push('tables resume'), setRequestFault: (fault) => calls.push(fault ? 'tables throttle' : 'tables unthrottle') },
    auroraShipping: { pause: () => calls.push('aurora pause'), resume: () => calls.push('aurora resume') },
    arc: {
      endpoints: [{}, {}, {}],
      stopEndpoint: async (index) => {
        running[index] = false;
        calls.push(`arc stop ${index}`);
      },
      startEndpoint: async (index) => {
        running[index] = true;
        calls.push(`arc start ${index}`);
      },
      isEndpointRunning: (index) => running[index]!,
    },
    brokerUrl: () => 'stomp://127.0.0.1:1',
    queueName: (_, queue) => queue,
  };
  return { twin, calls, running };
}

describe('the chaos catalogue', () => {
  it('gives every experiment a unique name, a summary, a target kind and a positive default duration', () => {
    // Act
    const all = experiments();

    // Assess
    expect(new Set(all.map((each) => each.name)).size).toBe(all.length);
    for (const each of all) {
      expect(each.summary.length).toBeGreaterThan(20);
      expect(each.defaultDurationMs).toBeGreaterThan(0);
    }
    expect(all.filter((each) => each.brokenBuild).map((each) => each.name)).toEqual(['broken-skip-batch']);
  });

  it('lists as JSON the dashboard can show, with each default target resolved against the twin', () => {
    // Prepare
    const { twin } = recordingTwin();

    // Act
    const list = JSON.parse(JSON.stringify(new ChaosController(twin).list())) as Array<{ name: string; defaultTargets: string[] }>;

    // Assess
    expect(list.find((each) => each.name === 'arc-endpoints-all-but-one')?.defaultTargets).toEqual(['0', '1']);
    expect(list.find((each) => each.name === 'arc-endpoints-all')?.defaultTargets).toEqual(['0', '1', '2']);
    expect(list.find((each) => each.name === 'region-kill')?.defaultTargets).toEqual(['us-east-1']);
  });
});

describe('ChaosController', () => {
  it('partition cuts DynamoDB replication and Aurora shipping, and heals both on stop', async () => {
    // Prepare
    const { twin, calls } = recordingTwin();
    const chaos = new ChaosController(twin);

    // Act
    const run = await chaos.start('partition', { durationMs: 60_000 });
    const during = [...calls];
    const [stopped] = await chaos.stop('partition');

    // Assess
    expect(run.state).toBe('running');
    expect(during).toEqual(['tables pause', 'aurora pause']);
    expect(calls).toEqual(['tables pause', 'aurora pause', 'tables resume', 'aurora resume']);
    expect(stopped).toMatchObject({ experiment: 'partition', state: 'stopped' });
    expect(chaos.status().running).toEqual([]);
  });

  it('ARC loss of all but one endpoint stops two of three, and starts them again', async () => {
    // Prepare
    const { twin, calls, running } = recordingTwin();
    const chaos = new ChaosController(twin);

    // Act
    await chaos.start('arc-endpoints-all-but-one', { durationMs: 60_000 });
    const during = [...running];
    await chaos.stop();

    // Assess
    expect(during).toEqual([false, false, true]);
    expect(running).toEqual([true, true, true]);
    expect(calls).toEqual(['arc stop 0', 'arc stop 1', 'arc start 0', 'arc start 1']);
  });

  it('DynamoDB throttling is set at the replicating endpoints and lifted on stop', async () => {
    // Prepare
    const { twin, calls } = recordingTwin();
    const chaos = new ChaosController(twin);

    // Act
    await chaos.start('dynamodb-throttle', { durationMs: 60_000 });
    await chaos.stop('dynamodb-throttle');

    // Assess
    expect(calls).toEqual(['tables throttle', 'tables unthrottle']);
  });

  it('ends an experiment by itself after its duration', async () => {
    // Prepare
    const { twin, calls } = recordingTwin();
    const chaos = new ChaosController(twin);

    // Act
    await chaos.start('replication-pause', { durationMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Assess
    expect(calls).toEqual(['tables pause', 'tables resume']);
    expect(chaos.status().recent[0]).toMatchObject({ experiment: 'replication-pause', state: 'stopped' });
  });

  it('kills the named region and restarts it on stop', async () => {
    // Prepare
    const { twin, calls } = recordingTwin();
    const chaos = new ChaosController(twin);

    // Act
    await chaos.start('region-kill', { targets: ['us-west-2'], durationMs: 60_000 });
    await chaos.stop('region-kill');

    // Assess
    expect(calls).toEqual(['kill us-west-2', 'start us-west-2']);
  });

  it('refuses an unknown experiment, a second run of one already running, and an impossible duration', async () => {
    // Prepare
    const { twin } = recordingTwin();
    const chaos = new ChaosController(twin);
    await chaos.start('aurora-lag-spike', { durationMs: 60_000 });

    // Act / Assess
    await expect(chaos.start('meteor-strike')).rejects.toThrow(UnknownExperimentError);
    await expect(chaos.start('aurora-lag-spike')).rejects.toThrow(ExperimentAlreadyRunningError);
    await expect(chaos.start('replication-pause', { durationMs: -1 })).rejects.toThrow(/duration/);
    await chaos.stop();
  });
});
