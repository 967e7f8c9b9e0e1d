import { listen } from '#local/support/listen.ts';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';

/**
 * The region's AWS-API emulators, each an HTTP server on 127.0.0.1 backed by LevelDB under the data directory,
 * so a region killed with SIGKILL finds every stream record and table item again when it restarts.
 */

export interface RunningEmulator {
  /** `http://127.0.0.1:<port>`, what the SDK's endpoint variables point at. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops serving and closes the LevelDB store (its lock would stop the next start on the same directory). */
  close(): Promise<void>;
}


function running(server: Server, host: string, port: number): RunningEmulator {
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this the close would wait for them to time out.
        const dropConnections = setInterval(() => server.closeAllConnections(), 50);
        server.closeAllConnections();
        server.close((error?: Error) => {
          clearInterval(dropConnections);
          if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
          else resolve();
        });
      });
      return closing;
    },
  };
}

export interface EmulatorOptions {
  /** Directory of the LevelDB store; created when missing. */
  readonly path: string;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
}

export async function startKinesisEmulator({ path, host = '127.0.0.1', port = 0 }: EmulatorOptions): Promise<RunningEmulator> {
  await mkdir(path, { recursive: true });
  // Streams become ACTIVE at once; the region still waits for ACTIVE, as it must on AWS.
  const server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 500 });
  return running(server, host, await listen(server, host, port));
}

export async function startDynamoDbEmulator({ path, host = '127.0.0.1', port = 0 }: EmulatorOptions): Promise<RunningEmulator> {
  await mkdir(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  return running(server, host, await listen(server, host, port));
}
