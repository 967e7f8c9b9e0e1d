/**
 * The message-broker contract against Apache ActiveMQ over STOMP. Start one with `.ci/activemq.sh` and set
 * ROTOR_ACTIVEMQ_STOMP_URL to the URL it prints. The restart test also needs ROTOR_ACTIVEMQ_RESTART_COMMAND
 * (e.g. `/etc/init.d/activemq restart`), since restarting a system broker is not something to do by default.
 */
import { execSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe } from 'vitest';
import { hostAndPort, messageBrokerContract } from './message-broker.contract.ts';

const activeMqUrl = process.env.ROTOR_ACTIVEMQ_STOMP_URL;
const restartCommand = process.env.ROTOR_ACTIVEMQ_RESTART_COMMAND;

describe.skipIf(!activeMqUrl)(
  activeMqUrl ? `message broker contract: ActiveMQ at ${activeMqUrl}` : 'message broker contract: ActiveMQ (skipped: ROTOR_ACTIVEMQ_STOMP_URL is not set; run .ci/activemq.sh)',
  () => {
    // ActiveMQ over STOMP never dead-letters on its own; the adapter enforces ActiveMQ's usual limit of 6.
    messageBrokerContract({
      url: () => activeMqUrl as string,
      maxDeliveries: 6,
      ...(restartCommand
        ? {
            async restart() {
              execSync(restartCommand, { stdio: 'ignore', timeout: 60_000 });
              await waitUntilAccepting(hostAndPort(activeMqUrl as string), 30_000);
            },
          }
        : {}),
    });
  },
  60_000,
);

async function waitUntilAccepting(address: { host: string; port: number }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(address.port, address.host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`ActiveMQ did not accept connections on ${address.host}:${address.port} within ${timeoutMs} ms after restart`);
}
