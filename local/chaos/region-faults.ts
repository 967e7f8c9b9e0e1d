import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorFaults } from '#local/region/emulators.ts';
import type { StatusServerRoute } from '#local/region/status-server.ts';
import type { InvocationFaults } from '#local/lambda/runtime.ts';
import { FaultPlan, InvalidFaultError, parseRegionFault } from '#local/chaos/fault-plan.ts';
import { invocationFaultsOf } from '#local/chaos/invocation-faults.ts';

/**
 * A region process's fault hooks, all reading one FaultPlan: the Lambda runtime's (before each invocation), the
 * kinesalite and dynalite fronts' (each request), the embedded broker's (each send), and the status server route
 * that fills the plan:
 *   GET    /chaos/faults         the faults in force, with how often each struck
 *   POST   /chaos/faults         add one (`RegionFault` JSON; same id replaces)
 *   DELETE /chaos/faults/<id>    remove one;  DELETE /chaos/faults  remove all
 */

const DYNAMODB_FUNCTION_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'TransactWriteItems', 'TransactGetItems']);

export interface RegionFaultHooks {
  readonly plan: FaultPlan;
  readonly invocations: InvocationFaults;
  readonly emulators: EmulatorFaults;
  readonly duplicateSends: (queue: string) => boolean;
  readonly route: StatusServerRoute;
}

export function regionFaultHooks(plan = new FaultPlan()): RegionFaultHooks {
  return {
    plan,
    invocations: invocationFaultsOf(plan),
    emulators: {
      // Targets name operations (`GetRecords`, `PutItem`); with none, DynamoDB throttles the calls functions make
      // (not BatchWriteItem, the replication links' apply) and Kinesis every call.
      throttles: (service, operation) => {
        if (service === 'kinesis') return plan.strikes('throttle-kinesis', operation);
        const named = DYNAMODB_FUNCTION_OPERATIONS.has(operation) || planTargets(plan, 'throttle-dynamodb').includes(operation);
        return named && plan.strikes('throttle-dynamodb', operation);
      },
      duplicatesPut: (stream) => plan.strikes('duplicate-put', stream),
    },
    duplicateSends: (queue) => plan.strikes('duplicate-send', queue),
    route: (request, response) => routeFaults(plan, request, response),
  };
}

function planTargets(plan: FaultPlan, kind: string): string[] {
  return plan.list().filter((fault) => fault.kind === kind).flatMap((fault) => fault.targets);
}

const PATH = /^\/chaos\/faults(?:\/([^/]+))?$/;

function routeFaults(plan: FaultPlan, request: IncomingMessage, response: ServerResponse): boolean {
  const match = PATH.exec((request.url ?? '').split('?')[0]!);
  if (!match) return false;
  const reply = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const id = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
  if (request.method === 'GET' && id === undefined) reply(200, { faults: plan.list() });
  else if (request.method === 'DELETE') {
    if (id === undefined) plan.clear();
    reply(200, { removed: id === undefined ? 'all' : plan.remove(id) });
  } else if (request.method === 'POST' && id === undefined) {
    readJson(request).then(
      (body) => {
        try {
          const fault = parseRegionFault(body);
          plan.add(fault);
          reply(200, { added: fault });
        } catch (error) {
          reply(error instanceof InvalidFaultError ? 400 : 500, { error: (error as Error).message, type: (error as Error).name });
        }
      },
      (error: unknown) => reply(400, { error: `not JSON: ${String(error)}`, type: 'SyntaxError' }),
    );
  } else reply(405, { error: `${request.method} not allowed on ${request.url}` });
  return true;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
