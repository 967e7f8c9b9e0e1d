import { startRegionProcess, type RegionProcess } from '#tests/support/region-process.ts';

/** Region processes on the `aurora` manifest (one global database, `ledger-db`, nothing else) and SQL sent to them. */

export const AURORA_DATABASE = 'ledger-db';

export async function startAuroraRegion(region: string, dataDir: string, extraArgs: string[] = []): Promise<RegionProcess> {
  const started = await startRegionProcess(['--region', region, '--data-dir', dataDir, '--topology', 'aurora', ...extraArgs], {
    readyTimeoutMs: 60_000,
  });
  if (!started.report.endpoints.aurora) throw new Error(`region ${region} reported no Aurora agent: ${JSON.stringify(started.report.endpoints)}`);
  return started;
}

export const agentUrlOf = (region: RegionProcess): string => region.report.endpoints.aurora!;

/** The database's refusal as the agent reports it: SQLSTATE in `code`. */
export class RegionSqlError extends Error {
  override readonly name = 'RegionSqlError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** One statement on the region's handler connection, through the agent's query endpoint. */
export async function regionSql<Row = Record<string, unknown>>(region: RegionProcess, statement: string, parameters: unknown[] = []): Promise<Row[]> {
  const response = await fetch(`${agentUrlOf(region)}/databases/${AURORA_DATABASE}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql: statement, parameters }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { rows?: Row[]; error?: { message: string; code?: string } };
  if (!response.ok) throw new RegionSqlError(body.error?.message ?? `HTTP ${response.status}`, body.error?.code);
  return body.rows!;
}

/** The SQLSTATE a statement fails with, or undefined when it succeeds. */
export async function sqlStateOf(write: Promise<unknown>): Promise<string | undefined> {
  return write.then(
    () => undefined,
    (error: unknown) => (error instanceof RegionSqlError ? error.code : `not a database refusal: ${String(error)}`),
  );
}
