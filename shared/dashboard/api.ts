import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { ChaosRequest, ChaosRunView, ChaosView, DashboardSnapshot, ExecutionView, GeneratorRequest, GeneratorView, RegionActionView, RegionRequest, RoutingControlView, StartExecutionRequest, StateMachineView } from '#shared/dashboard/contract.ts';
import { allowMethods, decodeSegment, HttpError, type Reply } from '#shared/dashboard/http.ts';
import { ChaosRequestBody, describeIssues, GeneratorRequestBody, RegionRequestBody, RoutingControlRequestBody, StartExecutionRequestBody } from '#shared/dashboard/requests.ts';

/**
 * The dashboard API's routes (contract.ts), whatever carries the request: the twin's HTTP server
 * (local/dashboard/server.ts) and, on AWS, the dashboard function behind CloudFront (functions/operations/dashboard-api.ts).
 * Authentication, origin checks and the transport's limits stay with the carrier; this decides what each route
 * does, checks bodies with zod, and maps the backends' named errors to HTTP statuses.
 */

export const MAX_BODY_BYTES = 64 * 1024;

/** A missing-transaction report as a pair of files (the twin keeps them under `<data dir>/reports/`). */
export interface ReportFile {
  readonly kind: 'missing-transactions' | 'reconciliation';
  /** The JSON file's name, e.g. `missing-transactions-1a2b.json`. */
  readonly name: string;
  readonly writtenAt: string;
  readonly jsonPath: string;
  /** The CSV beside it; null when there is none. */
  readonly csvPath: string | null;
}

/** What the API does; the twin (local/dashboard/twin-backend.ts) and AWS (aws-backend.ts) implement it, tests fake it. */
export interface DashboardBackend {
  snapshot(): Promise<DashboardSnapshot>;
  /** SafetyRuleViolationError when a safety rule refuses (409); RoutingControlNotFoundError (404). */
  setRoutingControl(name: string, state: RoutingControlView['state']): Promise<RoutingControlView>;
  generator(request: GeneratorRequest): Promise<GeneratorView>;
  startExecution(request: StartExecutionRequest & { region?: string }): Promise<{ executionName: string }>;
  execution(name: string): Promise<ExecutionView>;
  stateMachines(): Promise<StateMachineView[]>;
  /** undefined when no report was written yet. */
  latestReport(): Promise<ReportFile | undefined>;
  /** RegionNotFoundError (404) for a region the backend does not have; RegionActionUnsupportedError (501) on AWS. */
  regionAction(region: string, action: RegionRequest['action']): Promise<RegionActionView>;
  chaos(): Promise<ChaosView>;
  /** UnknownExperimentError (404), ExperimentAlreadyRunningError (409), ChaosUnsupportedError (501) on AWS. */
  chaosAction(experiment: string, request: ChaosRequest): Promise<ChaosRunView[]>;
}

export interface ApiRequest {
  readonly method: string | undefined;
  readonly path: string;
  readonly searchParams: URLSearchParams;
  readonly contentType: string | undefined;
  /** The whole body as text; the carrier enforces MAX_BODY_BYTES while reading it (413). */
  text(): Promise<string>;
}

/** A region the backend does not have (404), on the twin and on AWS alike. */
export class RegionNotFoundError extends Error {
  override readonly name = 'RegionNotFoundError';
}

/** Errors of the twin, AWS and their parts, by name, as HTTP statuses; anything else is a 500. */
const STATUS_OF_ERROR: Record<string, number> = {
  SafetyRuleViolationError: 409,
  RoutingControlNotFoundError: 404,
  RoutingControlRequestError: 400,
  RoutingControlsUnreachableError: 503,
  StateMachineNotFoundError: 404,
  ExecutionNotFoundError: 404,
  RegionNotFoundError: 404,
  InvalidExecutionNameError: 400,
  ExecutionAlreadyExistsError: 409,
  NoActiveRegionError: 409,
  SeveralActiveRegionsError: 409,
  RegionUnavailableError: 409,
  RegionCommandError: 409,
  GeneratorUnavailableError: 409,
  RegionActionUnsupportedError: 501,
  UnknownExperimentError: 404,
  ExperimentAlreadyRunningError: 409,
  InvalidChaosRequestError: 400,
  ChaosUnsupportedError: 501,
};

/** The status, type and message a failure is answered with: `{error, type}`. */
export function errorReply(error: unknown): { status: number; headers: Record<string, string>; json: { error: string; type: string } } {
  const failure = error instanceof Error ? error : new Error(String(error));
  const status = error instanceof HttpError ? error.status : (STATUS_OF_ERROR[failure.name] ?? 500);
  const type = error instanceof HttpError ? error.type : failure.name;
  return { status, headers: error instanceof HttpError ? error.headers : {}, json: { error: failure.message, type } };
}

const ROUTING_CONTROL = /^\/api\/routing-controls\/([^/]+)$/;
const EXECUTION = /^\/api\/executions\/([^/]+)$/;
const REGION = /^\/api\/regions\/([^/]+)$/;
const CHAOS = /^\/api\/chaos\/([^/]+)$/;

/** Every /api route but /api/events, which only a long-lived carrier can stream. */
export async function routeApi(request: ApiRequest, backend: DashboardBackend, snapshot: () => Promise<DashboardSnapshot>): Promise<Reply> {
  const route = request.path;
  if (route === '/api/snapshot') {
    allowMethods(request, ['GET']);
    return { status: 200, json: await snapshot() };
  }
  if (route === '/api/state-machines') {
    allowMethods(request, ['GET']);
    return { status: 200, json: await backend.stateMachines() };
  }
  if (route === '/api/reports/latest') {
    allowMethods(request, ['GET']);
    return reportReply(await backend.latestReport(), request.searchParams.get('format') ?? 'json');
  }
  if (route === '/api/generator') {
    allowMethods(request, ['POST']);
    return { status: 200, json: await backend.generator(await readBody(request, GeneratorRequestBody)) };
  }
  if (route === '/api/executions') {
    allowMethods(request, ['POST']);
    return { status: 200, json: await backend.startExecution(await readBody(request, StartExecutionRequestBody)) };
  }
  const control = ROUTING_CONTROL.exec(route);
  if (control) {
    allowMethods(request, ['POST']);
    const name = decodeSegment(control[1]!);
    if (!/^[A-Za-z0-9-]{1,128}$/.test(name)) throw new HttpError(404, `no routing control named ${JSON.stringify(name)}`, 'RoutingControlNotFoundError');
    const { state } = await readBody(request, RoutingControlRequestBody);
    return { status: 200, json: await backend.setRoutingControl(name, state) };
  }
  if (route === '/api/chaos') {
    allowMethods(request, ['GET']);
    return { status: 200, json: await backend.chaos() };
  }
  const chaos = CHAOS.exec(route);
  if (chaos) {
    allowMethods(request, ['POST']);
    const name = decodeSegment(chaos[1]!);
    if (!/^[a-z0-9-]{1,80}$/.test(name)) throw new HttpError(404, `no experiment named ${JSON.stringify(name)}`, 'UnknownExperimentError');
    return { status: 200, json: await backend.chaosAction(name, await readBody(request, ChaosRequestBody)) };
  }
  const region = REGION.exec(route);
  if (region) {
    allowMethods(request, ['POST']);
    const name = decodeSegment(region[1]!);
    if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new HttpError(404, `no region named ${JSON.stringify(name)}`, 'RegionNotFoundError');
    const { action } = await readBody(request, RegionRequestBody);
    return { status: 200, json: await backend.regionAction(name, action) };
  }
  const execution = EXECUTION.exec(route);
  if (execution) {
    allowMethods(request, ['GET']);
    const name = decodeSegment(execution[1]!);
    if (!/^[A-Za-z0-9_.:-]{1,256}$/.test(name)) throw new HttpError(404, `no execution named ${JSON.stringify(name)}`, 'ExecutionNotFoundError');
    return { status: 200, json: await backend.execution(name) };
  }
  throw new HttpError(404, `no such API request: ${request.method ?? ''} ${route}`, 'NotFound');
}

async function reportReply(report: ReportFile | undefined, format: string): Promise<Reply> {
  if (format !== 'json' && format !== 'csv') throw new HttpError(400, `format must be json or csv, not ${JSON.stringify(format)}`);
  if (!report) throw new HttpError(404, 'no missing-transaction report yet: a failback (rotor drill region-outage) or `rotor reconcile` writes one', 'ReportNotFound');
  const file = format === 'csv' ? report.csvPath : report.jsonPath;
  if (!file) throw new HttpError(404, `report ${report.name} has no CSV beside it`, 'ReportNotFound');
  const body = await readFile(file);
  return {
    status: 200,
    body,
    headers: {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${path.basename(file)}"`,
      'x-rotor-report-kind': report.kind,
      'x-rotor-report-written-at': report.writtenAt,
      'cache-control': 'no-store',
    },
  };
}

async function readBody<T>(request: ApiRequest, schema: z.ZodType<T>): Promise<T> {
  const type = request.contentType ?? '';
  if (!/^application\/json\s*(;.*)?$/i.test(type)) {
    throw new HttpError(415, `send the body as JSON (Content-Type: application/json), not ${type === '' ? 'without a Content-Type' : type}`, 'UnsupportedMediaType');
  }
  const text = await request.text();
  if (text.trim() === '') throw new HttpError(400, 'a JSON body is needed', 'BadRequest');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`, 'BadRequest');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'the body must be a JSON object', 'BadRequest');
  const result = schema.safeParse(parsed);
  if (!result.success) throw new HttpError(400, describeIssues(result.error), 'ValidationError');
  return result.data;
}
