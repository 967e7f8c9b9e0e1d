import type { IncomingMessage, ServerResponse } from 'node:http';
import { CompiledQuery } from 'kysely';
import { AuroraGlobalDatabaseError } from '#local/global/aurora/errors.ts';
import { ReplicaDatabase } from '#local/global/aurora/replica-database.ts';
import type { ReplicaEndpoint } from '#local/global/aurora/replica-endpoint.ts';
import type { OpenedDatabase } from '#shared/adapters/postgres/database.ts';
import { openDatabaseFromConnectionString } from '#shared/adapters/postgres/database-registry.ts';

/**
 * The region's side of the Aurora global databases: the global layer's coordinator
 * (`local/global/aurora/coordinator.ts`) ships changes between regions through these endpoints, because a
 * region's PGlite lives inside the region's process. Killing the region takes its database away with it, as a
 * regional outage does. Served under `<status url>/aurora`:
 *
 *   GET  /aurora                                  every manifest database and its role
 *   GET  /aurora/databases/<db>                   role, tables, applied position, log head
 *   POST /aurora/databases/<db>/configure         {schema?: [ddl…], tables: [...]} install change capture
 *   POST /aurora/databases/<db>/role              {role: writer|secondary|fenced, logStartsAfter? | appliedLsn?}
 *   GET  /aurora/databases/<db>/backlog?after=N   {logHead, backlog, lagMs} of this database's log after N
 *   GET  /aurora/databases/<db>/changes?after=N&limit=T   next T whole transactions after N, values as JSON text
 *   POST /aurora/databases/<db>/apply             {transactions} applied in order; already applied ones skipped
 *   GET  /aurora/databases/<db>/tail?after=N      every change after N, values exact
 *   GET  /aurora/databases/<db>/snapshot          {lsn, tables: {"schema.table": [row JSON text…]}}
 *   POST /aurora/databases/<db>/restore           a snapshot: replaces the data, positions the secondary
 *   POST /aurora/databases/<db>/prune             {throughLsn}
 *   POST /aurora/databases/<db>/query             {sql, parameters?} → {rows}: one statement on the connection
 *                                                 handlers use (a secondary refuses writes with SQLSTATE 25006),
 *                                                 what psql against the region's cluster endpoint is on AWS
 *
 * Errors: `{error: {name, message, code?}}`; 404 unknown database or path, 400 malformed request, 409 the
 * database's role forbids it, 422 the database refused the statement (`code` is the SQLSTATE), 500 otherwise.
 */

export const AURORA_AGENT_PATH = '/aurora';

const DEFAULT_CHANGE_PAGE = 100;
const MAX_CHANGE_PAGE = 1_000;

export interface AuroraAgent {
  /** Serves a request under `/aurora`; returns false, without answering, for any other path. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  close(): Promise<void>;
}

class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface AgentDatabase {
  readonly opened: OpenedDatabase<unknown>;
  readonly replica: ReplicaDatabase;
}

/** Opens every manifest database (name → connection string) as a replica; existing replicas open fenced. */
export async function startAuroraAgent(connectionStrings: ReadonlyMap<string, string>): Promise<AuroraAgent> {
  const databases = new Map<string, AgentDatabase>();
  const closeAll = () => Promise.all([...databases.values()].map(({ opened }) => opened.close().catch(() => undefined)));
  try {
    for (const [name, connectionString] of connectionStrings) {
      const opened = await openDatabaseFromConnectionString<unknown>(connectionString);
      databases.set(name, { opened, replica: await ReplicaDatabase.open(opened.db) });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return {
    handle(request, response) {
      const url = new URL(request.url ?? '/', 'http://agent');
      if (url.pathname !== AURORA_AGENT_PATH && !url.pathname.startsWith(`${AURORA_AGENT_PATH}/`)) return false;
      route(databases, request, url).then(
        (body) => respond(response, 200, body ?? {}),
        (error: unknown) => respond(response, statusOf(error), { error: describeError(error) }),
      );
      return true;
    },
    close: async () => {
      await closeAll();
    },
  };
}

async function route(databases: ReadonlyMap<string, AgentDatabase>, request: IncomingMessage, url: URL): Promise<unknown> {
  const parts = url.pathname.slice(AURORA_AGENT_PATH.length).split('/').filter(Boolean).map(decodeURIComponent);
  const method = request.method ?? 'GET';
  if (parts.length === 0 && method === 'GET') {
    const described = await Promise.all(
      [...databases].map(async ([name, { opened, replica }]) => ({ name, location: opened.location, ...(await replica.describe()) })),
    );
    return { databases: described };
  }
  if (parts[0] !== 'databases' || parts.length < 2 || parts.length > 3) throw new AgentRequestError(404, `no such path ${url.pathname}`);
  const database = databases.get(parts[1]!);
  if (!database) throw new AgentRequestError(404, `this region has no database named ${parts[1]} (it has ${[...databases.keys()].join(', ') || 'none'})`);
  const replica: ReplicaEndpoint = database.replica;
  const action = `${method} ${parts[2] ?? ''}`;
  switch (action) {
    case 'GET ':
      return replica.describe();
    case 'POST configure': {
      const body = await readBody(request);
      return replica.configure({ tables: stringArray(body.tables, 'tables'), schema: body.schema === undefined ? [] : stringArray(body.schema, 'schema') });
    }
    case 'POST role':
      return replica.setRole(roleChange(await readBody(request)));
    case 'GET backlog':
      return replica.backlogAfter(lsnParameter(url, 'after'));
    case 'GET changes': {
      const limit = url.searchParams.has('limit') ? lsnParameter(url, 'limit') : DEFAULT_CHANGE_PAGE;
      return replica.readChanges(lsnParameter(url, 'after'), Math.min(Math.max(limit, 1), MAX_CHANGE_PAGE));
    }
    case 'POST apply': {
      const { transactions } = await readBody(request);
      if (!Array.isArray(transactions)) throw new AgentRequestError(400, 'apply expects {transactions: [...]}');
      return replica.apply(transactions);
    }
    case 'GET tail':
      return { changes: await replica.tail(lsnParameter(url, 'after')) };
    case 'GET snapshot':
      return replica.snapshot();
    case 'POST restore': {
      const body = await readBody(request);
      if (typeof body.lsn !== 'number' || typeof body.tables !== 'object' || body.tables === null) {
        throw new AgentRequestError(400, 'restore expects a snapshot {lsn, tables}');
      }
      return replica.restore({ lsn: body.lsn, tables: body.tables as Record<string, string[]> });
    }
    case 'POST prune': {
      const { throughLsn } = await readBody(request);
      if (!Number.isSafeInteger(throughLsn)) throw new AgentRequestError(400, 'prune expects {throughLsn: integer}');
      await replica.prune(throughLsn as number);
      return {};
    }
    case 'POST query': {
      const body = await readBody(request);
      if (typeof body.sql !== 'string') throw new AgentRequestError(400, 'query expects {sql, parameters?}');
      const parameters = Array.isArray(body.parameters) ? (body.parameters as unknown[]) : [];
      const result = await database.opened.db.executeQuery(CompiledQuery.raw(body.sql, parameters));
      return { rows: result.rows, ...(result.numAffectedRows === undefined ? {} : { affectedRows: Number(result.numAffectedRows) }) };
    }
    default:
      throw new AgentRequestError(404, `no such operation ${method} ${url.pathname}`);
  }
}

function roleChange(body: Record<string, unknown>): Parameters<ReplicaEndpoint['setRole']>[0] {
  const { role, logStartsAfter, appliedLsn } = body;
  if (role === 'fenced') return { role };
  if (role === 'writer') return logStartsAfter === undefined ? { role } : { role, logStartsAfter: integer(logStartsAfter, 'logStartsAfter') };
  if (role === 'secondary') return appliedLsn === undefined ? { role } : { role, appliedLsn: integer(appliedLsn, 'appliedLsn') };
  throw new AgentRequestError(400, `role must be writer, secondary or fenced, got ${JSON.stringify(role)}`);
}

function integer(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new AgentRequestError(400, `${field} must be a non-negative integer`);
  return value as number;
}

function lsnParameter(url: URL, name: string): number {
  const raw = url.searchParams.get(name);
  const value = raw === null || raw === '' ? Number.NaN : Number(raw);
  return integer(value, name);
}

function stringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new AgentRequestError(400, `${field} must be an array of strings`);
  }
  return value;
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new AgentRequestError(400, 'the request body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AgentRequestError(400, 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function statusOf(error: unknown): number {
  if (error instanceof AgentRequestError) return error.status;
  if (error instanceof AuroraGlobalDatabaseError) return 409;
  if (sqlState(error) !== undefined) return 422;
  return 500;
}

function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = sqlState(error);
  return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) };
}

/** The database's own refusal carries a five-character SQLSTATE; a network failure's `code` (ECONNREFUSED) is not one. */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
