/**
 * Runs the embedded STOMP broker as its own process:
 *   npx tsx local/mq/main.ts --data-dir .rotor/mq [--port 61613] [--host 127.0.0.1] [--max-deliveries 6]
 * Prints one JSON line `{"url":…,"host":…,"port":…}` once it accepts connections; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startStompBroker } from './stomp-broker.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'max-deliveries': { type: 'string' },
  },
});

const dataDir = values['data-dir'];
if (!dataDir) {
  process.stderr.write('usage: main.ts --data-dir DIR [--port N] [--host H] [--max-deliveries N]\n');
  process.exit(2);
}

const broker = await startStompBroker({
  dataDir,
  port: Number(values.port),
  host: values.host,
  maxDeliveries: values['max-deliveries'] === undefined ? undefined : Number(values['max-deliveries']),
  onFailure: (error) => process.stderr.write(`embedded STOMP broker: ${String(error)}\n`),
});
process.stdout.write(`${JSON.stringify({ url: broker.url, host: broker.host, port: broker.port })}\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void broker.close().then(() => process.exit(0));
  });
}
