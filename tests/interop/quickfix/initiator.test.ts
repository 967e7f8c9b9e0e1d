// The QuickFIX initiator against a minimal scripted acceptor: what it puts on the wire (the Logon's credentials,
// the AllocationInstruction's groups) and how it reports answers, refusals and timeouts. The gateway itself is
// exercised in tests/integration/fix-quickfix-interop.test.ts.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildQuickFixInitiator, runQuickFixInitiator, type QuickFixLeg } from '#tests/support/quickfix-initiator.ts';

const SOH = '\x01';

function encode(type: string, sequence: number, body: readonly [number, string][]): string {
  const fields = [[35, type], [49, 'ROTOR'], [56, 'IMQAINS012'], [34, String(sequence)], [52, '20261207-10:00:00.000'], ...body];
  const content = fields.map(([tag, value]) => `${tag}=${value}${SOH}`).join('');
  const head = `8=FIX.4.4${SOH}9=${Buffer.byteLength(content)}${SOH}${content}`;
  const sum = [...Buffer.from(head)].reduce((total, byte) => total + byte, 0) % 256;
  return `${head}10=${String(sum).padStart(3, '0')}${SOH}`;
}

/** Answers each message of the initiator through `reply` (one FIX message per data chunk is enough here). */
async function scriptedAcceptor(reply: (type: string, message: string, socket: Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.search(/\x0110=\d{3}\x01/); end >= 0; end = buffer.search(/\x0110=\d{3}\x01/)) {
        const message = buffer.slice(0, end + 8);
        buffer = buffer.slice(end + 8);
        reply(/\x0135=([^\x01]+)\x01/.exec(message)?.[1] ?? '', message, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const LEG: QuickFixLeg = {
  allocId: 'IM-1', side: '1', symbol: 'IBM', quantity: '100', price: '101.2500', tradeDate: '20261207', settlDate: '20261209',
  execId: 'T-1', im: 'QAINS012', broker: 'QABRO010', text: 'DTC 1234',
  allocations: [{ account: 'ACC-1', quantity: '60', allocationId: '1' }, { account: 'ACC-2', quantity: '40', allocationId: '2' }],
};

describe('QuickFIX initiator', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  });

  it('logs on with Username and Password, sends the leg with its groups and returns the validated ack', { timeout: 300_000 }, async () => {
    // Prepare
    await buildQuickFixInitiator();
    let sequence = 0;
    server = await scriptedAcceptor((type, message, socket) => {
      if (type === 'A') socket.write(encode('A', ++sequence, [[98, '0'], [108, '5']]));
      if (type === 'J') {
        const allocId = /\x0170=([^\x01]+)/.exec(message)?.[1] ?? '';
        socket.write(encode('P', ++sequence, [[60, '20261207-10:00:01'], [70, allocId], [87, '3']]));
      }
      if (type === '5') socket.write(encode('5', ++sequence, []));
    });

    // Act
    const result = await runQuickFixInitiator({
      port: (server.address() as AddressInfo).port, senderCompId: 'IMQAINS012', password: 'im-secret', legs: [LEG], expect: 1, timeoutSeconds: 20,
    });

    // Assess
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.events).toEqual(['LOGON', 'LOGOUT', 'DONE']);
    const logon = result.sent.find((message) => message.value(35) === 'A');
    expect([logon?.value(553), logon?.value(554), logon?.value(108), logon?.value(141)]).toEqual(['IMQAINS012', 'im-secret', '5', 'Y']);
    const instruction = result.sent.find((message) => message.value(35) === 'J');
    const body = instruction?.fields.filter(([tag]) => ![8, 9, 34, 49, 52, 56, 10].includes(tag)).map(([tag, value]) => `${tag}=${value}`).join('|');
    expect(body).toBe(
      '35=J|6=101.2500|53=100|54=1|55=IBM|58=DTC 1234|64=20261209|70=IM-1|71=0|75=20261207|78=2|79=ACC-1|80=60|467=1|79=ACC-2|80=40|467=2|' +
        '124=1|17=T-1|453=2|448=QAINS012|447=D|452=13|448=QABRO010|447=D|452=1|626=1|857=0',
    );
    const ack = result.received.find((message) => message.kind === 'APP');
    expect([ack?.value(35), ack?.value(70), ack?.value(87)]).toEqual(['P', 'IM-1', '3']);
  });

  it('rejects, with a session Reject, an ack that FIX 4.4 does not allow', { timeout: 300_000 }, async () => {
    // Prepare: the ack lacks TransactTime (60), required in AllocationInstructionAck
    let sequence = 0;
    server = await scriptedAcceptor((type, message, socket) => {
      if (type === 'A') socket.write(encode('A', ++sequence, [[98, '0'], [108, '5']]));
      if (type === 'J') socket.write(encode('P', ++sequence, [[70, /\x0170=([^\x01]+)/.exec(message)?.[1] ?? ''], [87, '3']]));
      if (type === '5') socket.write(encode('5', ++sequence, []));
    });

    // Act
    const result = await runQuickFixInitiator({
      port: (server.address() as AddressInfo).port, senderCompId: 'IMQAINS012', password: 'im-secret', legs: [LEG], expect: 1, timeoutSeconds: 4,
    });

    // Assess
    expect(result.status).toBe(2);
    expect(result.received.filter((message) => message.kind === 'APP')).toEqual([]);
    const reject = result.sent.find((message) => message.value(35) === '3');
    expect([reject?.value(45), reject?.value(371), reject?.value(373)]).toEqual(['2', '60', '1']);
  });

  it('reports a refused logon with exit status 3 and the acceptor’s reason', { timeout: 300_000 }, async () => {
    // Prepare
    server = await scriptedAcceptor((type, _message, socket) => {
      if (type === 'A') socket.end(encode('5', 1, [[58, 'unknown CompID or bad password']]));
    });

    // Act
    const result = await runQuickFixInitiator({
      port: (server.address() as AddressInfo).port, senderCompId: 'IMQAINS012', password: 'wrong', legs: [LEG], expect: 1, timeoutSeconds: 20,
    });

    // Assess
    expect(result.status).toBe(3);
    expect(result.events[0]).toBe('LOGOUT');
    expect(result.events.some((event) => event.startsWith('REFUSED'))).toBe(true);
    expect(result.received.map((message) => [message.value(35), message.value(58)])).toEqual([['5', 'unknown CompID or bad password']]);
  });
});
