import { Topology } from './schema.ts';

/** Checks a manifest's shape and that every reference in it resolves, so neither platform meets a dangling name. */

export class InvalidTopologyError extends Error {
  override readonly name = 'InvalidTopologyError';
  constructor(readonly problems: string[]) {
    super(`the topology manifest has ${problems.length} problem(s):\n- ${problems.join('\n- ')}`);
  }
}

export function topologyProblems(input: unknown): string[] {
  const parsed = Topology.safeParse(input);
  if (!parsed.success) return parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const topology = parsed.data;
  const problems: string[] = [];

  const index = <T extends { name: string }>(kind: string, items: T[]) => {
    const byName = new Map<string, T>();
    for (const item of items) {
      if (byName.has(item.name)) problems.push(`${kind} ${item.name} is declared twice`);
      byName.set(item.name, item);
    }
    return byName;
  };
  const streams = index('stream', topology.streams);
  const tables = index('table', topology.tables);
  const queues = index('queue', topology.queues);
  const databases = index('database', topology.databases);
  const functions = index('function', topology.functions);
  index('state machine', topology.stateMachines);
  index('routing control', topology.routingControls);

  const consumedStreams = new Set<string>();
  const referencedTables = new Set<string>();
  for (const fn of topology.functions) {
    for (const trigger of fn.triggers) {
      if (trigger.kind === 'kinesis') {
        consumedStreams.add(trigger.stream);
        if (!streams.has(trigger.stream)) problems.push(`function ${fn.name} is triggered by unknown stream ${trigger.stream}`);
        const destination = queues.get(trigger.onFailure);
        if (destination?.service !== 'sqs') problems.push(`function ${fn.name}: on-failure destination ${trigger.onFailure} is not an sqs queue`);
      } else if (queues.get(trigger.queue)?.service !== 'mq') {
        problems.push(`function ${fn.name} is triggered by ${trigger.queue}, which is not an mq queue`);
      }
    }
    for (const [variable, value] of Object.entries(fn.env)) {
      if (typeof value === 'string') continue;
      const [[kind, name]] = Object.entries(value) as [[string, string]];
      if ('table' in value) referencedTables.add(value.table);
      const known = { stream: streams, table: tables, queue: queues, database: databases }[kind]!;
      if (!known.has(name)) problems.push(`function ${fn.name}: ${variable} names unknown ${kind} ${name}`);
    }
  }
  for (const stream of streams.keys()) {
    if (!consumedStreams.has(stream)) problems.push(`stream ${stream} has no consumer`);
  }
  for (const [table, spec] of tables) {
    // A control table may serve a long-running service rather than a function (the FIX gateway's sessions and lease).
    if (!referencedTables.has(table) && spec.purpose !== 'control') problems.push(`table ${table} is used by no function`);
  }
  for (const machine of topology.stateMachines) {
    for (const task of machine.tasks) {
      if (!functions.has(task)) problems.push(`state machine ${machine.name} calls unknown function ${task}`);
    }
  }
  return problems;
}

export function validateTopology(input: unknown): Topology {
  const problems = topologyProblems(input);
  if (problems.length > 0) throw new InvalidTopologyError(problems);
  return Topology.parse(input);
}
