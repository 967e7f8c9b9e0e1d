import type { TableSnapshot } from '#local/global/aurora/change-apply.ts';
import { ReplicaRequestError, ReplicaUnreachableError } from '#local/global/aurora/errors.ts';
import type {
  ApplyResult,
  Change,
  ChangePage,
  LogBacklog,
  ReplicaDescription,
  ReplicaEndpoint,
  ReplicaSetup,
  RoleChange,
  ShippedTransaction,
} from '#local/global/aurora/replica-endpoint.ts';

/**
 * A region's database reached through the region's replication agent (`local/region/aurora-agent.ts`), at
 * `<agent url>/databases/<database>/…`. The agent URL is looked up on every request, so a region restarted on
 * another port is found again once the coordinator is told its new address.
 */

export interface ReplicaClientOptions {
  /** Ordinary requests; a region that does not answer in this time counts as unreachable. */
  readonly requestTimeoutMs?: number;
  /** Snapshots and restores move a whole database. */
  readonly bulkTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
const DEFAULT_BULK_TIMEOUT_MS = 60_000;

export class HttpReplicaEndpoint implements ReplicaEndpoint {
  readonly #agentUrl: () => string;
  readonly #database: string;
  readonly #requestTimeoutMs: number;
  readonly #bulkTimeoutMs: number;

  constructor(agentUrl: () => string, database: string, options: ReplicaClientOptions = {}) {
    this.#agentUrl = agentUrl;
    this.#database = database;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#bulkTimeoutMs = options.bulkTimeoutMs ?? DEFAULT_BULK_TIMEOUT_MS;
  }

  describe(): Promise<ReplicaDescription> {
    return this.#call('GET', '');
  }

  configure(setup: ReplicaSetup): Promise<ReplicaDescription> {
    return this.#call('POST', '/configure', setup);
  }

  setRole(change: RoleChange): Promise<ReplicaDescription> {
    return this.#call('POST', '/role', change);
  }

  backlogAfter(lsn: number): Promise<LogBacklog> {
    return this.#call('GET', `/backlog?after=${lsn}`);
  }

  readChanges(afterLsn: number, limitTransactions: number): Promise<ChangePage> {
    return this.#call('GET', `/changes?after=${afterLsn}&limit=${limitTransactions}`);
  }

  apply(transactions: readonly ShippedTransaction[]): Promise<ApplyResult> {
    return this.#call('POST', '/apply', { transactions });
  }

  async tail(afterLsn: number): Promise<Change[]> {
    const { changes } = await this.#call<{ changes: Change[] }>('GET', `/tail?after=${afterLsn}`, undefined, this.#bulkTimeoutMs);
    return changes;
  }

  snapshot(): Promise<TableSnapshot> {
    return this.#call('GET', '/snapshot', undefined, this.#bulkTimeoutMs);
  }

  restore(snapshot: TableSnapshot): Promise<ApplyResult> {
    return this.#call('POST', '/restore', snapshot, this.#bulkTimeoutMs);
  }

  async prune(throughLsn: number): Promise<void> {
    await this.#call('POST', '/prune', { throughLsn });
  }

  async #call<T>(method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = this.#requestTimeoutMs): Promise<T> {
    const url = `${this.#agentUrl()}/databases/${encodeURIComponent(this.#database)}${path}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      text = await response.text();
    } catch (error) {
      const reason = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new ReplicaUnreachableError(`the replication agent at ${url} did not answer: ${reason}`, { cause: error });
    }
    const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (!response.ok) {
      const failure = (parsed as { error?: { name?: string; message?: string; code?: string } } | undefined)?.error ?? {};
      throw new ReplicaRequestError(
        response.status,
        failure.name ?? 'Error',
        `${method} ${url} failed (${response.status}): ${failure.message ?? text}`,
        failure.code,
      );
    }
    return parsed as T;
  }
}
