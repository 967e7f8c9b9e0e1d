import type { IncomingMessage } from 'node:http';
import { ChaosController, ExperimentAlreadyRunningError, InvalidChaosRequestError, UnknownExperimentError } from '#local/chaos/chaos-controller.ts';

/**
 * The chaos routes of the twin's control server:
 *   GET  /chaos/experiments                the catalogue
 *   GET  /chaos                            running and recent runs
 *   POST /chaos/experiments/<name>/start   `{targets?: string[], durationMs?: number}` → the run
 *   POST /chaos/stop                       every running experiment;  POST /chaos/experiments/<name>/stop  one
 */

export type ChaosReply = { status: number; json: unknown };

const START_OR_STOP = /^\/chaos\/experiments\/([a-z0-9-]+)\/(start|stop)$/;

export async function routeChaos(chaos: ChaosController, request: IncomingMessage, path: string, readBody: () => Promise<Buffer>): Promise<ChaosReply | undefined> {
  if (!path.startsWith('/chaos')) return undefined;
  try {
    if (request.method === 'GET' && path === '/chaos/experiments') return { status: 200, json: chaos.list() };
    if (request.method === 'GET' && path === '/chaos') return { status: 200, json: chaos.status() };
    if (request.method === 'POST' && path === '/chaos/stop') return { status: 200, json: await chaos.stop() };
    const match = START_OR_STOP.exec(path);
    if (request.method === 'POST' && match) {
      if (match[2] === 'stop') return { status: 200, json: await chaos.stop(match[1]!) };
      const text = (await readBody()).toString('utf8');
      const body = (text.trim() === '' ? {} : JSON.parse(text)) as { targets?: unknown; durationMs?: unknown };
      if (body.targets !== undefined && !(Array.isArray(body.targets) && body.targets.every((target) => typeof target === 'string'))) throw new InvalidChaosRequestError('targets must be a list of names');
      if (body.durationMs !== undefined && typeof body.durationMs !== 'number') throw new InvalidChaosRequestError('durationMs must be a number');
      return { status: 200, json: await chaos.start(match[1]!, { ...(body.targets ? { targets: body.targets as string[] } : {}), ...(body.durationMs === undefined ? {} : { durationMs: body.durationMs as number }) }) };
    }
    return { status: 404, json: { error: `no such chaos request: ${request.method} ${path}` } };
  } catch (error) {
    const status = error instanceof UnknownExperimentError ? 404 : error instanceof ExperimentAlreadyRunningError ? 409 : error instanceof InvalidChaosRequestError || error instanceof SyntaxError ? 400 : 500;
    return { status, json: { error: (error as Error).message, type: (error as Error).name } };
  }
}
