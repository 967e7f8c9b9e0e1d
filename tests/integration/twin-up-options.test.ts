import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { TwinLayout } from '#local/controller/twin-layout.ts';
import { listen } from '#local/support/listen.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';

// `rotor up` refusing to start, with an exit code per reason, before it starts anything.

const scratch: string[] = [];
const servers: (Server | HttpServer)[] = [];

async function dataDir(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'rotor-up-options-'));
  scratch.push(directory);
  return directory;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});
afterAll(async () => {
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
});

describe('rotor up refuses to start', () => {
  it('with exit code 3 when a port of the saved layout is taken, naming the port, its component and the way out', async () => {
    // Prepare
    const directory = await dataDir();
    const ports = await new TwinLayout(directory).portsFor(['us-east-1', 'us-west-2'], 'rotor');
    const squatter = createServer();
    servers.push(squatter);
    await listen(squatter, '127.0.0.1', ports.regions['us-west-2']!.kinesis);
    const io = capturedIO();

    // Act
    const code = await main(['up', '--data-dir', directory], io);

    // Assess
    expect(code, io.stderr()).toBe(3);
    expect(io.stderr()).toContain(`port ${ports.regions['us-west-2']!.kinesis} (us-west-2 kinesis) is in use by another process`);
    expect(io.stderr()).toContain('--fresh');
    expect(io.stderr()).toContain('--data-dir');
    expect(await new TwinLayout(directory).readState()).toBeUndefined();
  });

  it('with exit code 4 when a twin already runs on the data directory, giving its controller’s pid', async () => {
    // Prepare: a live process and a control endpoint that answers, as a running controller leaves them
    const directory = await dataDir();
    const controller = createHttpServer((_, response) => response.end('{}'));
    servers.push(controller);
    const port = await listen(controller, '127.0.0.1', 0);
    await new TwinLayout(directory).writeState({
      pid: process.ppid,
      controlUrl: `http://127.0.0.1:${port}`,
      dataDir: directory,
      startedAt: new Date().toISOString(),
      regionPids: {},
    });
    const io = capturedIO();

    // Act
    const code = await main(['up', '--data-dir', directory], io);

    // Assess
    expect(code, io.stderr()).toBe(4);
    expect(io.stderr()).toContain(`already running on ${directory} (controller pid ${process.ppid})`);
  });

  it('with exit code 2 for a rate, broker or PostgreSQL URL it cannot use, and documents every exit code', async () => {
    // Prepare
    const directory = await dataDir();
    const attempts = [['--rate', '0'], ['--rate', 'fast'], ['--broker', 'http://127.0.0.1:61613'], ['--postgres', 'mysql://db']];
    const help = capturedIO();

    // Act
    const codes = await Promise.all(attempts.map((flags) => main(['up', '--data-dir', directory, ...flags], capturedIO())));
    await main(['up', '--help'], help);

    // Assess
    expect(codes).toEqual([2, 2, 2, 2]);
    expect(help.stdout()).toMatch(/Exit codes:[\s\S]*3 {2}a port[\s\S]*4 {2}the data directory is in use/);
  });

  it('with a clear error when the data directory’s twin ran on other backends', async () => {
    // Prepare
    const directory = await dataDir();
    await new TwinLayout(directory).portsFor(['us-east-1', 'us-west-2'], 'rotor');
    const io = capturedIO();

    // Act
    const code = await main(['up', '--data-dir', directory, '--broker', 'stomp://127.0.0.1:61613'], io);

    // Assess
    expect(code).toBe(1);
    expect(io.stderr()).toContain('holds a twin whose brokers are embedded, not stomp://127.0.0.1:61613');
  });
});
