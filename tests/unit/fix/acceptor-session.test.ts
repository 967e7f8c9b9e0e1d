import { describe, expect, it } from 'vitest';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { AcceptorSession } from '#shared/fix/acceptor-session.ts';
import { allocationInstructionOf, receivedAck } from '#shared/fix/allocation-instruction.ts';
import { decodeFix, encodeFix, type FixField, FixFrameReader, FixMessage, fixTimestamp } from '#shared/fix/codec.ts';
import { counterpartiesFrom } from '#shared/fix/counterparties.ts';
import { gatewayApplication, LegForwarder } from '#shared/fix/gateway-application.ts';
import { InMemoryFixLegStore } from '#shared/fix/leg-store.ts';
import { InMemorySessionStore } from '#shared/fix/memory-stores.ts';
import type { FencedOutError } from '#shared/fix/ports.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';

const leg: TradeLeg = {
  senderID: 'QAINS012', imID: 'QAINS012', brokerID: 'QABRO010', tradeID: 'T1', security: 'AMZN', transactionIndicator: 'B', price: '12.50', quantity: 10,
  tradeDate: '2026-11-23', settlementDate: '2026-11-24', allocations: [{ allocationID: 1, quantity: 10, account: 'ACC1' }],
};

/** A broker that records what it is sent: the forwarder's only collaborator besides the store. */
function recordingBroker() {
  const sent: Array<{ queue: string; body: string }> = [];
  const broker: MessageBroker = {
    send: async (queue, body) => void sent.push({ queue, body }),
    consume: () => Promise.reject(new Error('not consumed here')),
    queueDepth: async () => sent.length,
    close: async () => undefined,
  };
  return { broker, sent };
}

function harness(options: { epoch?: number; application?: boolean } = {}) {
  const store = new InMemorySessionStore();
  const legs = new InMemoryFixLegStore();
  const { broker, sent } = recordingBroker();
  const received: FixMessage[] = [];
  const reader = new FixFrameReader();
  const handled: FixMessage[] = [];
  const fenced: FencedOutError[] = [];
  let closed = false;
  const epoch = options.epoch ?? 1;
  const log = () => undefined;
  const forwarder = new LegForwarder({ broker, queue: 'tm.trades', legs, epoch: () => epoch, onFenced: () => undefined, log });
  const app = gatewayApplication({ legs, forwarder, epoch: () => epoch, log });
  const session = new AcceptorSession({
    store,
    epoch: () => epoch,
    counterparties: counterpartiesFrom(undefined),
    write: (bytes) => {
      for (const item of reader.push(bytes)) if ('frame' in item) received.push(decodeFix(item.frame).message);
    },
    close: () => (closed = true),
    application: async (message, current) => {
      handled.push(message);
      if (options.application) await app(message, current);
    },
    admit: () => true,
    onFenced: (error) => fenced.push(error),
    log,
  });
  let seq = 1;
  const from = (message: FixMessage, fields: { seq?: number; extra?: FixField[]; sender?: string } = {}) => {
    const header: FixField[] = [[35, message.msgType], [49, fields.sender ?? 'IMQAINS012'], [56, 'ROTOR'], [34, String(fields.seq ?? seq++)], ...(fields.extra ?? []), [52, fixTimestamp(new Date())]];
    session.receive(encodeFix(new FixMessage([...header, ...message.fields.filter(([tag]) => tag !== 35)])));
    return session.idle();
  };
  const logon = (extra: FixField[] = [], password = 'im-secret', sender = 'IMQAINS012') =>
    from(FixMessage.of('A', [[98, '0'], [108, '30'], ...extra, [553, sender], [554, password]]), { sender });
  return { session, store, legs, sent, received, handled, fenced, from, logon, forwarder, closed: () => closed, setSeq: (next: number) => (seq = next) };
}

describe('the FIX acceptor session', () => {
  it('logs a counterparty on with its password and answers with its own Logon', async () => {
    // Prepare
    const { session, received, logon, store } = harness();

    // Act
    await logon();

    // Assess
    expect(session.state).toBe('active');
    expect(received.map((message) => [message.msgType, message.get(34), message.get(108)])).toEqual([['A', '1', '30']]);
    expect(store.sessions.get('IMQAINS012')).toMatchObject({ nextSenderSeq: 2, nextTargetSeq: 2, epoch: 1 });
  });

  it.each([
    ['a wrong password', 'nope', 'IMQAINS012', 'bad Username or Password'],
    ['an unknown CompID', 'x', 'STRANGER1', 'unknown SenderCompID STRANGER1'],
  ])('refuses %s with a Logout that says why, and closes', async (_case, password, sender, reason) => {
    // Prepare
    const { session, received, logon, closed, store } = harness();

    // Act
    await logon([], password, sender);

    // Assess
    expect(received.map((message) => [message.msgType, message.get(58)])).toEqual([['5', reason]]);
    expect(closed()).toBe(true);
    expect(session.state).toBe('closed');
    expect(store.sessions.size).toBe(0);
  });

  it('asks for a resend on a gap and handles nothing beyond it until the gap is filled', async () => {
    // Prepare
    const { received, handled, logon, from, setSeq, store } = harness();
    await logon();

    // Act: 2 is lost, 3 arrives
    setSeq(3);
    await from(allocationInstructionOf(leg, 'A3'));
    const afterGap = received.at(-1)!;
    setSeq(2);
    await from(FixMessage.of('4', [[123, 'Y'], [36, '3']]), { extra: [[43, 'Y']] });
    await from(allocationInstructionOf(leg, 'A3'), { extra: [[43, 'Y']] });

    // Assess
    expect([afterGap.msgType, afterGap.get(7), afterGap.get(16)]).toEqual(['2', '2', '0']);
    expect(handled.map((message) => message.get(70))).toEqual(['A3']);
    expect(store.sessions.get('IMQAINS012')?.nextTargetSeq).toBe(4);
  });

  it('asks once per gap, however many later messages arrive before it is filled', async () => {
    // Prepare
    const { received, logon, from, setSeq } = harness();
    await logon();

    // Act
    setSeq(4);
    await from(FixMessage.of('0', []));
    await from(FixMessage.of('0', []));
    await from(FixMessage.of('0', []));
    setSeq(2);
    await from(FixMessage.of('4', [[123, 'Y'], [36, '7']]), { extra: [[43, 'Y']] });
    setSeq(9);
    await from(FixMessage.of('0', []));

    // Assess
    expect(received.filter((message) => message.msgType === '2').map((message) => message.get(7))).toEqual(['2', '7']);
  });

  it('logs out a counterparty whose MsgSeqNum is too low, and ignores a low one flagged PossDup', async () => {
    // Prepare
    const { received, logon, from, setSeq, closed, handled } = harness();
    await logon();
    await from(FixMessage.of('0', []));

    // Act
    setSeq(2);
    await from(allocationInstructionOf(leg, 'DUP'), { extra: [[43, 'Y']] });
    const closedAfterPossDup = closed();
    setSeq(2);
    await from(FixMessage.of('0', []));

    // Assess
    expect(closedAfterPossDup).toBe(false);
    expect(handled).toEqual([]);
    expect(received.at(-1)?.msgType).toBe('5');
    expect(received.at(-1)?.get(58)).toBe('MsgSeqNum too low, expecting 3 but received 2');
    expect(closed()).toBe(true);
  });

  it('answers a ResendRequest with stored application messages flagged PossDup and gap fills for the rest', async () => {
    // Prepare
    const { session, received, logon, from } = harness();
    await logon();
    await session.send(receivedAck('A1', new Date('2026-12-07T10:00:00Z')));
    await session.send(FixMessage.of('0', []));
    await session.send(receivedAck('A2', new Date('2026-12-07T10:00:01Z')));
    const originals = received.slice(1);
    received.length = 0;

    // Act
    await from(FixMessage.of('2', [[7, '1'], [16, '0']]));
    await session.idle();

    // Assess
    expect(received.map((message) => [message.msgType, message.get(34), message.get(36) ?? message.get(70), message.get(43)])).toEqual([
      ['4', '1', '2', 'Y'],
      ['P', '2', 'A1', 'Y'],
      ['4', '3', '4', 'Y'],
      ['P', '4', 'A2', 'Y'],
    ]);
    expect(received[1]!.get(122)).toBe(originals[0]!.get(52));
  });

  it('answers a ResendRequest that arrives beyond a gap, then asks for the gap itself', async () => {
    // Prepare: both sides lost messages, as after a leader died between allocating and writing numbers
    const { session, received, logon, from, setSeq } = harness();
    await logon();
    await session.send(receivedAck('A1', new Date('2026-12-07T10:00:00Z')));
    received.length = 0;

    // Act
    setSeq(5);
    await from(FixMessage.of('2', [[7, '2'], [16, '0']]));
    await session.idle();

    // Assess
    expect(received.map((message) => [message.msgType, message.get(34), message.get(43) ?? null])).toEqual([
      ['P', '2', 'Y'],
      ['2', '3', null],
    ]);
    expect([received[1]!.get(7), received[1]!.get(16)]).toEqual(['2', '0']);
  });

  it('acknowledges a repeated AllocID with the same leg again without forwarding it twice', async () => {
    // Prepare
    const { received, logon, from, forwarder, sent, legs } = harness({ application: true });
    await logon();

    // Act
    await from(allocationInstructionOf(leg, 'A1'));
    await forwarder.drained();
    await from(allocationInstructionOf(leg, 'A1'));
    await forwarder.drained();

    // Assess
    const acks = received.filter((message) => message.msgType === 'P');
    expect(acks.map((message) => [message.get(70), message.get(87)])).toEqual([['A1', '3'], ['A1', '3']]);
    expect(sent).toHaveLength(1);
    expect((await legs.get('fix:IMQAINS012:A1'))?.forwarded).toBe(true);
  });

  it('stops at the first write a newer leader refuses: nothing stored, the session dropped', async () => {
    // Prepare
    const { logon, from, store, legs, fenced, closed, received } = harness({ application: true });
    await logon();
    await store.claim('IMQAINS012', 2);
    const before = received.length;

    // Act
    await from(allocationInstructionOf(leg, 'LATE'));

    // Assess
    expect(fenced).toHaveLength(1);
    expect(store.refused).toBe(1);
    expect(await legs.all()).toEqual([]);
    expect(received.length).toBe(before);
    expect(closed()).toBe(true);
  });
});
