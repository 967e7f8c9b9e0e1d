import { describe, expect, it } from 'vitest';
import { checksumOf, decodeFix, encodeFix, FixFrameReader, FixFramingError, FixMessage, fixTimestamp, parseFixTimestamp, SOH } from '#shared/fix/codec.ts';

const wire = (text: string) => Buffer.from(text.replaceAll('|', SOH), 'utf8');

describe('FIX codec', () => {
  it('encodes BodyLength and CheckSum as the FIX spec computes them', () => {
    // Prepare: the heartbeat example, checked by hand: body "35=0|49=A|56=B|34=1|52=20261207-10:00:00.000|" is 45 bytes, and every byte before 10= sums to 061 (mod 256).
    const message = FixMessage.of('0', [[49, 'A'], [56, 'B'], [34, '1'], [52, '20261207-10:00:00.000']]);

    // Act
    const bytes = encodeFix(message);

    // Assess
    expect(bytes.toString('utf8')).toBe(`8=FIX.4.4${SOH}9=45${SOH}35=0${SOH}49=A${SOH}56=B${SOH}34=1${SOH}52=20261207-10:00:00.000${SOH}10=061${SOH}`);
    expect(checksumOf(Buffer.from('8=FIX.4.4'))).toBe(String([...Buffer.from('8=FIX.4.4')].reduce((a, b) => a + b, 0) % 256).padStart(3, '0'));
  });

  it('round-trips fields in order, repeating groups included, and counts bytes, not characters', () => {
    // Prepare
    const message = FixMessage.of('J', [[70, 'A1'], [58, 'Zürich ✓'], [78, '2'], [79, 'ACC1'], [80, '600'], [467, '1'], [79, 'ACC2'], [80, '400'], [467, '2']]);

    // Act
    const decoded = decodeFix(encodeFix(message)).message;

    // Assess
    expect(decoded.fields).toEqual(message.fields);
    const allocs = decoded.group(78, 79, [80, 467]);
    expect(allocs.declared).toBe(2);
    expect(allocs.entries.map((entry) => Object.fromEntries(entry))).toEqual([
      { 79: 'ACC1', 80: '600', 467: '1' },
      { 79: 'ACC2', 80: '400', 467: '2' },
    ]);
  });

  it('refuses a wrong CheckSum and a wrong BodyLength', () => {
    // Prepare
    const good = encodeFix(FixMessage.of('0', [[49, 'A'], [56, 'B'], [34, '1']])).toString('utf8');
    const badSum = good.replace(/10=\d{3}/, (trailer) => `10=${String((Number(trailer.slice(3)) + 1) % 256).padStart(3, '0')}`);
    const badLength = good.replace(/9=\d+/, '9=5');

    // Act / Assess
    expect(() => decodeFix(Buffer.from(badSum))).toThrow(/CheckSum/);
    expect(() => decodeFix(Buffer.from(badLength))).toThrow(FixFramingError);
  });

  it('cuts a byte stream into messages whatever the chunking, skipping garbage between them', () => {
    // Prepare
    const one = encodeFix(FixMessage.of('0', [[34, '1']]));
    const two = encodeFix(FixMessage.of('1', [[34, '2'], [112, 'T']]));
    const stream = Buffer.concat([Buffer.from('noise'), one, two]);
    const reader = new FixFrameReader();

    // Act: one byte at a time
    const frames = [...stream].flatMap((byte) => reader.push(Buffer.from([byte])));

    // Assess
    expect(frames).toHaveLength(2);
    expect(frames.map((item) => ('frame' in item ? decodeFix(item.frame).message.msgType : 'error'))).toEqual(['0', '1']);
  });

  it('reports a frame whose BodyLength does not reach the CheckSum, then reads the next message', () => {
    // Prepare
    const broken = wire('8=FIX.4.4|9=3|35=0|34=1|10=000|');
    const next = encodeFix(FixMessage.of('0', [[34, '2']]));
    const reader = new FixFrameReader();

    // Act
    const items = reader.push(Buffer.concat([broken, next]));

    // Assess
    expect(items.some((item) => 'error' in item)).toBe(true);
    const frames = items.filter((item): item is { frame: Buffer } => 'frame' in item);
    expect(frames.map((item) => decodeFix(item.frame).message.get(34))).toEqual(['2']);
  });

  it('refuses a value with SOH in it and a malformed field', () => {
    // Act / Assess
    expect(() => encodeFix(FixMessage.of('0', [[58, `a${SOH}b`]]))).toThrow(FixFramingError);
    expect(() => decodeFix(wire('8=FIX.4.4|9=8|35=0|x=1|10=000|'))).toThrow(/malformed field/);
  });

  it('writes and reads UTCTimestamps with milliseconds', () => {
    // Prepare
    const at = new Date('2026-12-07T21:05:09.042Z');

    // Act / Assess
    expect(fixTimestamp(at)).toBe('20261207-21:05:09.042');
    expect(parseFixTimestamp('20261207-21:05:09.042')?.toISOString()).toBe(at.toISOString());
    expect(parseFixTimestamp('20261207-21:05:09')?.toISOString()).toBe('2026-12-07T21:05:09.000Z');
    expect(parseFixTimestamp('2026-12-07')).toBeUndefined();
  });

  it('masks the password when a message is logged', () => {
    // Act / Assess
    expect(FixMessage.of('A', [[553, 'IMQAINS012'], [554, 'im-secret']]).toString()).toBe('35=A|553=IMQAINS012|554=***');
  });
});
