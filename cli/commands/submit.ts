import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import { type CommandIO, parseOptions, readLines, UsageError } from '../io.ts';

const HELP = `Usage: rotor submit --in FILE [--queue tm.trades|tm.settlements] [--json] [--data-dir DIR]

Sends raw messages to the running twin, one message body per line of FILE (\`-\` = standard input), to the
tm.trades queue of the region where trade matching is active: exactly as a client would, valid or not. Each
message is acknowledged by the inbound gateway once recorded; invalid ones are answered with a NACK on
tm.responses, never dropped. Blank lines are skipped.

Options:
  --in FILE        the messages, one per line (- for standard input)
  --queue NAME     the inbound queue (default tm.trades)
  --json           print the summary as JSON
  --data-dir DIR   the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  -h, --help       show this help
`;

const QUEUES = ['tm.trades', 'tm.settlements'];
const IN_FLIGHT = 32;
const PROGRESS_EVERY = 1_000;

export async function runSubmit(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    in: { type: 'string' },
    queue: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  if (!options.in) throw new UsageError('--in FILE is required (- for standard input)');
  const queue = options.queue ?? 'tm.trades';
  if (!QUEUES.includes(queue)) throw new UsageError(`--queue must be one of ${QUEUES.join(', ')}, got "${queue}"`);

  const { TwinClient } = await import('#local/controller/twin-client.ts');
  const { StompMessageBroker } = await import('#shared/adapters/stomp/stomp-message-broker.ts');
  const client = await TwinClient.connect(options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR);
  const region = await client.activeRegion('trade-matching');
  const entry = (await client.status()).regions.find((candidate) => candidate.region === region);
  if (!entry?.endpoints.broker) throw new Error(`region ${region} is not up; its broker cannot take messages`);
  const queueName = `${(entry as { queuePrefix?: string }).queuePrefix ?? ''}${queue}`;
  const broker = new StompMessageBroker({ url: entry.endpoints.broker });

  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  try {
    for await (const { body } of readLines(options.in, io)) {
      if (failure) break;
      const sending = broker.send(queueName, body).then(
        () => {
          sent += 1;
          if (sent % PROGRESS_EVERY === 0) io.err(`  ${sent} sent…\n`);
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await broker.close();
  }
  const summary = { region, queue: queueName, sent, ...(failure ? { error: failure instanceof Error ? failure.message : String(failure) } : {}) };
  if (options.json) io.out(`${JSON.stringify(summary)}\n`);
  else io.out(`${sent} messages sent to ${queueName} in ${region}.${failure ? ` Stopped: ${summary.error}` : ''}\n`);
  return failure ? 1 : 0;
}
