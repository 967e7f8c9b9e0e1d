/**
 * FIX tag=value framing (FIX 4.4, classic transport): every message is `8=FIX.4.4␁9=<BodyLength>␁…␁10=<CheckSum>␁`.
 * BodyLength counts the bytes after the `9=` field up to and including the SOH before `10=`; CheckSum is the sum of
 * every byte before `10=`, modulo 256, as three digits. Fields keep their order, so repeating groups read back as
 * they were written. Values travel as bytes (UTF-8 here), and lengths are byte counts, never character counts.
 */

export const SOH = '\x01';
const SOH_BYTE = 0x01;
export const BEGIN_STRING = 'FIX.4.4';

/** One tag and its value, in message order. */
export type FixField = readonly [tag: number, value: string];

/** A message stripped of its framing (8, 9, 10): the header fields from 35 on, then the body, in order. */
export class FixMessage {
  constructor(readonly fields: readonly FixField[]) {}

  static of(msgType: string, fields: readonly FixField[]): FixMessage {
    return new FixMessage([[35, msgType], ...fields]);
  }

  get msgType(): string {
    return this.get(35) ?? '';
  }

  /** The first value of the tag, outside or inside a group. */
  get(tag: number): string | undefined {
    return this.fields.find(([candidate]) => candidate === tag)?.[1];
  }

  has(tag: number): boolean {
    return this.fields.some(([candidate]) => candidate === tag);
  }

  /** The integer value of the tag, or undefined when absent or not a non-negative integer. */
  int(tag: number): number | undefined {
    const value = this.get(tag);
    return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
  }

  /**
   * A repeating group's entries in order: after `countTag`, each entry starts at `firstTag` and holds the member
   * tags that follow it. The declared count is returned with the entries, so a caller can reject a mismatch.
   */
  group(countTag: number, firstTag: number, memberTags: readonly number[]): { declared: number | undefined; entries: Map<number, string>[] } {
    const start = this.fields.findIndex(([tag]) => tag === countTag);
    if (start < 0) return { declared: undefined, entries: [] };
    const declaredText = this.fields[start]![1];
    const declared = /^\d{1,4}$/.test(declaredText) ? Number(declaredText) : undefined;
    const members = new Set([firstTag, ...memberTags]);
    const entries: Map<number, string>[] = [];
    for (const [tag, value] of this.fields.slice(start + 1)) {
      if (!members.has(tag)) break;
      if (tag === firstTag) entries.push(new Map());
      const entry = entries.at(-1);
      if (!entry || entry.has(tag)) break;
      entry.set(tag, value);
    }
    return { declared, entries };
  }

  /** The fields with the given tags replaced (the first occurrence) or appended. */
  with(updates: readonly FixField[]): FixMessage {
    const fields = [...this.fields];
    for (const [tag, value] of updates) {
      const index = fields.findIndex(([candidate]) => candidate === tag);
      if (index >= 0) fields[index] = [tag, value];
      else fields.push([tag, value]);
    }
    return new FixMessage(fields);
  }

  /** Readable form for logs: `35=A|49=…`, with the password (554) masked. */
  toString(): string {
    return this.fields.map(([tag, value]) => `${tag}=${tag === 554 ? '***' : value}`).join('|');
  }
}

export class FixFramingError extends Error {
  override readonly name = 'FixFramingError';
}

export function checksumOf(bytes: Uint8Array): string {
  let sum = 0;
  for (const byte of bytes) sum = (sum + byte) & 0xff;
  return String(sum).padStart(3, '0');
}

/** The message on the wire, BodyLength and CheckSum computed. */
export function encodeFix(message: FixMessage, beginString = BEGIN_STRING): Buffer {
  for (const [tag, value] of message.fields) {
    if (!Number.isInteger(tag) || tag <= 0) throw new FixFramingError(`invalid tag ${tag}`);
    if (value.includes(SOH)) throw new FixFramingError(`the value of tag ${tag} contains SOH`);
  }
  const body = Buffer.from(message.fields.map(([tag, value]) => `${tag}=${value}${SOH}`).join(''), 'utf8');
  const head = Buffer.from(`8=${beginString}${SOH}9=${body.byteLength}${SOH}`, 'utf8');
  const withoutTrailer = Buffer.concat([head, body]);
  return Buffer.concat([withoutTrailer, Buffer.from(`10=${checksumOf(withoutTrailer)}${SOH}`, 'utf8')]);
}

/** Splits `tag=value␁…` bytes into fields; a field that is not `<digits>=<value>` is a framing error. */
export function parseFields(bytes: Buffer): FixField[] {
  const fields: FixField[] = [];
  let start = 0;
  while (start < bytes.byteLength) {
    const end = bytes.indexOf(SOH_BYTE, start);
    if (end < 0) throw new FixFramingError('a field is not terminated by SOH');
    const text = bytes.subarray(start, end).toString('utf8');
    const match = /^(\d{1,9})=([\s\S]*)$/.exec(text);
    if (!match || match[1]!.startsWith('0')) throw new FixFramingError(`malformed field "${text.slice(0, 40)}"`);
    fields.push([Number(match[1]), match[2]!]);
    start = end + 1;
  }
  return fields;
}

/** One complete message off the wire: its begin string and fields, framing checked. */
export function decodeFix(frame: Buffer): { beginString: string; message: FixMessage } {
  const fields = parseFields(frame);
  const [begin, length] = fields;
  const trailer = fields.at(-1);
  if (begin?.[0] !== 8 || length?.[0] !== 9) throw new FixFramingError('a message must begin with 8= and 9=');
  if (trailer?.[0] !== 10) throw new FixFramingError('a message must end with 10=');
  const checksumAt = frame.lastIndexOf(`${SOH}10=`) + 1;
  const expected = checksumOf(frame.subarray(0, checksumAt));
  if (trailer[1] !== expected) throw new FixFramingError(`CheckSum ${trailer[1]} is wrong; the bytes sum to ${expected}`);
  const bodyStart = frame.indexOf(`${SOH}9=`) + 1;
  const bodyFrom = frame.indexOf(SOH_BYTE, bodyStart) + 1;
  if (Number(length[1]) !== checksumAt - bodyFrom) throw new FixFramingError(`BodyLength ${length[1]} is wrong; the body is ${checksumAt - bodyFrom} bytes`);
  return { beginString: begin[1], message: new FixMessage(fields.slice(2, -1)) };
}

/**
 * Cuts a TCP byte stream into messages. BodyLength says where each message ends, so a value may contain any byte
 * but SOH. Garbage before a `8=` is skipped (the FIX spec: garbled data is ignored), and a message whose BodyLength
 * or CheckSum is wrong is reported to the caller, which drops it without consuming a sequence number.
 */
export class FixFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes = 1024 * 1024) {}

  /** Feeds bytes; resolves the complete frames now available (each decoded or an error for that frame). */
  push(chunk: Buffer): Array<{ frame: Buffer } | { error: FixFramingError }> {
    this.buffered = this.buffered.byteLength === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Array<{ frame: Buffer } | { error: FixFramingError }> = [];
    for (;;) {
      const start = this.buffered.indexOf('8=');
      if (start < 0) {
        this.buffered = this.buffered.subarray(Math.max(0, this.buffered.byteLength - 1));
        return out;
      }
      if (start > 0) this.buffered = this.buffered.subarray(start);
      const lengthAt = this.buffered.indexOf(`${SOH}9=`);
      if (lengthAt < 0) return this.wait(out);
      const lengthEnd = this.buffered.indexOf(SOH_BYTE, lengthAt + 1);
      if (lengthEnd < 0) return this.wait(out);
      const lengthText = this.buffered.subarray(lengthAt + 3, lengthEnd).toString('latin1');
      if (!/^\d{1,7}$/.test(lengthText) || Number(lengthText) > this.maxMessageBytes) {
        out.push({ error: new FixFramingError(`BodyLength "${lengthText.slice(0, 10)}" is not a valid length`) });
        this.buffered = this.buffered.subarray(2);
        continue;
      }
      const trailerAt = lengthEnd + 1 + Number(lengthText);
      // The trailer is exactly `10=NNN␁`: seven bytes.
      if (this.buffered.byteLength < trailerAt + 7) return out;
      const frame = this.buffered.subarray(0, trailerAt + 7);
      if (frame.subarray(trailerAt, trailerAt + 3).toString('latin1') !== '10=' || frame[trailerAt + 6] !== SOH_BYTE) {
        out.push({ error: new FixFramingError('BodyLength does not lead to the CheckSum field') });
        this.buffered = this.buffered.subarray(2);
        continue;
      }
      out.push({ frame: Buffer.from(frame) });
      this.buffered = this.buffered.subarray(trailerAt + 7);
    }
  }

  private wait<T>(out: T[]): T[] {
    if (this.buffered.byteLength > this.maxMessageBytes) {
      this.buffered = this.buffered.subarray(2);
    }
    return out;
  }
}

/** FIX UTCTimestamp with milliseconds: `YYYYMMDD-HH:MM:SS.sss`. */
export function fixTimestamp(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`;
}

/** Parses a FIX UTCTimestamp (seconds, optional milliseconds) or undefined when it is not one. */
export function parseFixTimestamp(text: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?$/.exec(text);
  if (!match) return undefined;
  const millis = match[7] ? match[7].slice(1, 4).padEnd(3, '0') : '000';
  const date = new Date(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}.${millis}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
