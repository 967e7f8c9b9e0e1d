import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RegionReadyReport, RegionStatus } from '#local/region/region.ts';
import { RegionCommandError, RegionProcessStartError } from '#local/controller/errors.ts';
import type { RegionPorts } from '#local/controller/twin-layout.ts';
import { POSTGRES_URLS_VARIABLE } from '#local/region/region-options.ts';

/**
 * One region of the twin as its own OS process (`node --import tsx local/region/main.ts …`), on fixed ports and its
 * own data directory, so stopping or killing it is a real outage: its ports refuse connections and only what it
 * wrote to disk comes back when it is started again.
 */

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGION_MAIN = path.join(REPOSITORY_ROOT, 'local/region/main.ts');
const DEFAULT_READY_TIMEOUT_MS = 90_000;
// A region lets in-flight batches finish and checkpoint before it exits; past this it is killed.
const STOP_GRACE_MS = 20_000;
const LOG_TAIL_BYTES = 4_000;

export type RegionProcessState = 'starting' | 'up' | 'stopping' | 'down';

export interface RegionExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: string;
  /** False when nobody asked the region to go: it crashed or was killed from outside. */
  readonly requested: boolean;
}

export interface RegionSupervisorOptions {
  readonly region: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly topology: string;
  readonly ports: RegionPorts;
  /** The region's replicating endpoint, which its functions use as their DynamoDB endpoint. */
  readonly dynamodbEndpointForFunctions: string;
  /** The ARC cluster endpoints (JSON, as `DescribeCluster` lists them), handed to the functions. */
  readonly arcEndpoints?: string;
  /** The twin's RDS API (Aurora global clusters), handed to the functions as AWS_ENDPOINT_URL_RDS. */
  readonly rdsEndpoint?: string;
  /** Every region's broker (`EDGE_BROKERS` JSON): outbound gateways send to the other app where it is served. */
  readonly edgeBrokers?: string;
  /** Manifest database name → PostgreSQL URL of this region's copy; PGlite when omitted. */
  readonly postgresUrls?: Readonly<Record<string, string>>;
  /** `stomp://host:port` of an ActiveMQ instead of the region's embedded broker. */
  readonly brokerUrl?: string;
  /** Put before every queue name (`us-east-1.`) when regions share one broker. */
  readonly queuePrefix?: string;
  /** Where handler modules are resolved; the repository root when omitted. */
  readonly codeRoot?: string;
  readonly readyTimeoutMs?: number;
  /** Each line the functions print after the ready line (EMF metrics among them), besides its copy in the log. */
  readonly onFunctionOutput?: (line: string) => void;
  /** Called whenever the process is gone, asked to or not. */
  readonly onExit: (region: string, exit: RegionExit) => void;
}

export class RegionSupervisor {
  readonly region: string;
  private child: ChildProcess | undefined;
  private exited: Promise<RegionExit> | undefined;
  private stopRequested = false;
  private currentState: RegionProcessState = 'down';
  private readyReport: RegionReadyReport | undefined;
  private lastExitInfo: RegionExit | undefined;
  private startCount = 0;

  constructor(private readonly options: RegionSupervisorOptions) {
    this.region = options.region;
  }

  get state(): RegionProcessState {
    return this.currentState;
  }

  get pid(): number | undefined {
    return this.currentState === 'down' ? undefined : this.child?.pid;
  }

  /** The ready line of the running process (or of the last one, while down). */
  get report(): RegionReadyReport | undefined {
    return this.readyReport;
  }

  get lastExit(): RegionExit | undefined {
    return this.lastExitInfo;
  }

  /** How many times the process was started by this controller. */
  get starts(): number {
    return this.startCount;
  }

  async start(): Promise<RegionReadyReport> {
    if (this.currentState !== 'down') throw new RegionCommandError(`region ${this.region} is ${this.currentState}, not down`);
    this.currentState = 'starting';
    this.stopRequested = false;
    this.startCount += 1;
    await mkdir(path.dirname(this.options.logFile), { recursive: true });
    const logFd = openSync(this.options.logFile, 'a');
    const { ports } = this.options;
    const child = spawn(
      process.execPath,
      [
        // A region allocates short-lived request and record objects by the million; a larger young generation
        // collects them in fewer scavenges (measured in docs/performance.md).
        '--max-semi-space-size=64',
        '--import', 'tsx', REGION_MAIN,
        '--region', this.region,
        '--data-dir', this.options.dataDir,
        '--topology', this.options.topology,
        '--kinesis-port', String(ports.kinesis),
        '--dynamodb-port', String(ports.dynamodb),
        '--broker-port', String(ports.broker),
        '--status-port', String(ports.status),
        '--dynamodb-endpoint-for-functions', this.options.dynamodbEndpointForFunctions,
        ...optionalFlags({
          '--arc-endpoints': this.options.arcEndpoints,
          '--rds-endpoint': this.options.rdsEndpoint,
          '--edge-brokers': this.options.edgeBrokers,
          '--activemq-url': this.options.brokerUrl,
          '--queue-prefix': this.options.queuePrefix,
          '--code-root': this.options.codeRoot,
        }),
      ],
      {
        cwd: REPOSITORY_ROOT,
        env: {
          ...process.env,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          // Not a flag: a command line, passwords and all, is readable by every local user.
          ...(this.options.postgresUrls ? { [POSTGRES_URLS_VARIABLE]: JSON.stringify(this.options.postgresUrls) } : {}),
        },
        stdio: ['ignore', 'pipe', logFd],
        // Its own process group: Ctrl-C in the terminal reaches the controller only, which stops regions in order.
        detached: true,
      },
    );
    closeSync(logFd);
    this.child = child;
    const exited = new Promise<RegionExit>((resolve) => {
      child.once('exit', (code, signal) => {
        const exit: RegionExit = { code, signal, at: new Date().toISOString(), requested: this.stopRequested };
        this.currentState = 'down';
        this.lastExitInfo = exit;
        this.options.onExit(this.region, exit);
        resolve(exit);
      });
    });
    this.exited = exited;
    try {
      // After the ready line, stdout carries what the functions print (Powertools logs and EMF metrics, as
      // CloudWatch Logs would get them): it goes to the region's log with everything else, and to onFunctionOutput.
      const functionOutput = createWriteStream(this.options.logFile, { flags: 'a' });
      void exited.then(() => functionOutput.end());
      const onOutput = this.options.onFunctionOutput;
      const line = await readyLine(child, exited, this.options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, (output) => {
        functionOutput.write(`${output}\n`);
        onOutput?.(output);
      });
      this.readyReport = JSON.parse(line) as RegionReadyReport;
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw new RegionProcessStartError(this.region, (error as Error).message, await this.logTail());
    }
    this.currentState = 'up';
    return this.readyReport;
  }

  /** SIGTERM: the region finishes in-flight batches, checkpoints and exits; killed if it takes too long. */
  async stop(): Promise<RegionExit | undefined> {
    return this.terminate('SIGTERM');
  }

  /** SIGKILL: a sudden outage; only what the region already wrote to disk survives. */
  async kill(): Promise<RegionExit | undefined> {
    return this.terminate('SIGKILL');
  }

  /** The region's own status endpoint; undefined when it does not answer in time. */
  async fetchStatus(timeoutMs = 2_000): Promise<RegionStatus | undefined> {
    if (this.currentState !== 'up' || !this.readyReport) return undefined;
    try {
      const response = await fetch(`${this.readyReport.endpoints.status}/status`, { signal: AbortSignal.timeout(timeoutMs) });
      return response.ok ? ((await response.json()) as RegionStatus) : undefined;
    } catch {
      return undefined;
    }
  }

  async logTail(): Promise<string> {
    try {
      const file = await open(this.options.logFile, 'r');
      try {
        const { size } = await file.stat();
        const length = Math.min(size, LOG_TAIL_BYTES);
        const { buffer } = await file.read(Buffer.alloc(length), 0, length, size - length);
        return buffer.toString('utf8');
      } finally {
        await file.close();
      }
    } catch {
      return '';
    }
  }

  private async terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<RegionExit | undefined> {
    const { child, exited } = this;
    if (!child || !exited || this.currentState === 'down') return this.lastExitInfo;
    this.stopRequested = true;
    this.currentState = 'stopping';
    child.kill(signal);
    const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(grace);
    }
  }
}

function optionalFlags(flags: Record<string, string | undefined>): string[] {
  return Object.entries(flags).flatMap(([flag, value]) => (value ? [flag, value] : []));
}

function readyLine(child: ChildProcess, exited: Promise<RegionExit>, timeoutMs: number, afterReady: (line: string) => void): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
      lines.on('line', afterReady);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the process exited (${code ?? signal}) before it was ready`));
    });
  });
}
