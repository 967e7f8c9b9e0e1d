/**
 * STOMP 1.0–1.2 frame codec for the twin's embedded broker: turns a TCP byte stream into frames and back.
 */

export interface StompFrame {
  readonly command: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** The client sent bytes that are not a STOMP frame; the connection is answered with ERROR and closed. */
export class StompFrameError extends Error {
  override name = 'StompFrameError';
}

const NUL = 0;
const LF = 0x0a;
const CR = 0x0d;

// CONNECT and CONNECTED predate header escaping, so the 1.2 spec exempts them.
const UNESCAPED_COMMANDS = new Set(['CONNECT', 'STOMP', 'CONNECTED']);

export interface FrameDecoderLimits {
  readonly maxFrameBytes: number;
  readonly maxHeaders: number;
}

export const DEFAULT_FRAME_LIMITS: FrameDecoderLimits = { maxFrameBytes: 8 * 1024 * 1024, maxHeaders: 256 };

/** Incremental decoder: push() bytes as they arrive, get back every frame they complete. */
export class StompFrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private escapeHeaders = false;

  constructor(private readonly limits: FrameDecoderLimits = DEFAULT_FRAME_LIMITS) {}

  /** Header escaping applies from STOMP 1.1 on, so it is switched on once the version is negotiated. */
  useHeaderEscaping(enabled: boolean): void {
    this.escapeHeaders = enabled;
  }

  push(chunk: Buffer): StompFrame[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: StompFrame[] = [];
    for (;;) {
      this.skipHeartbeats();
      const frame = this.takeFrame();
      if (!frame) break;
      frames.push(frame);
    }
    if (this.buffered.length > this.limits.maxFrameBytes) {
      throw new StompFrameError(`frame larger than ${this.limits.maxFrameBytes} bytes`);
    }
    return frames;
  }

  private skipHeartbeats(): void {
    let start = 0;
    while (start < this.buffered.length && (this.buffered[start] === LF || this.buffered[start] === CR)) start++;
    if (start > 0) this.buffered = this.buffered.subarray(start);
  }

  private takeFrame(): StompFrame | undefined {
    const headerEnd = findHeaderEnd(this.buffered);
    if (!headerEnd) return undefined;
    const lines = this.buffered.subarray(0, headerEnd.index).toString('utf8').split(/\r?\n/);
    const command = lines.shift() ?? '';
    if (!/^[A-Z]+$/.test(command)) throw new StompFrameError(`malformed command line '${command.slice(0, 40)}'`);
    if (lines.length > this.limits.maxHeaders) throw new StompFrameError(`more than ${this.limits.maxHeaders} headers`);

    const headers: Record<string, string> = {};
    const unescape = this.escapeHeaders && !UNESCAPED_COMMANDS.has(command);
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon < 0) throw new StompFrameError(`header line without ':' in ${command}`);
      const name = unescape ? unescapeHeader(line.slice(0, colon)) : line.slice(0, colon);
      const value = unescape ? unescapeHeader(line.slice(colon + 1)) : line.slice(colon + 1);
      // STOMP 1.2: when a header repeats, the first occurrence wins.
      if (!(name in headers)) headers[name] = value;
    }

    const bodyStart = headerEnd.index + headerEnd.length;
    const declaredLength = headers['content-length'];
    let bodyEnd: number;
    if (declaredLength !== undefined) {
      if (!/^\d+$/.test(declaredLength)) throw new StompFrameError(`invalid content-length '${declaredLength}'`);
      const length = Number(declaredLength);
      if (length > this.limits.maxFrameBytes) throw new StompFrameError(`frame larger than ${this.limits.maxFrameBytes} bytes`);
      bodyEnd = bodyStart + length;
      if (this.buffered.length < bodyEnd + 1) return undefined;
      if (this.buffered[bodyEnd] !== NUL) throw new StompFrameError('frame body longer than its content-length');
    } else {
      bodyEnd = this.buffered.indexOf(NUL, bodyStart);
      if (bodyEnd < 0) return undefined;
    }
    const body = Buffer.from(this.buffered.subarray(bodyStart, bodyEnd));
    this.buffered = this.buffered.subarray(bodyEnd + 1);
    return { command, headers, body };
  }
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const lf = buffer.indexOf('\n\n');
  const crlf = buffer.indexOf('\r\n\r\n');
  const mixed = buffer.indexOf('\n\r\n');
  const candidates = [
    lf >= 0 ? { index: lf, length: 2 } : undefined,
    crlf >= 0 ? { index: crlf, length: 4 } : undefined,
    mixed >= 0 ? { index: mixed, length: 3 } : undefined,
  ].filter((candidate) => candidate !== undefined);
  candidates.sort((a, b) => a.index - b.index);
  return candidates[0];
}

function unescapeHeader(text: string): string {
  return text.replace(/\\(.)?/g, (_, escaped: string | undefined) => {
    switch (escaped) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 'c':
        return ':';
      case '\\':
        return '\\';
      default:
        throw new StompFrameError(`undefined header escape sequence '\\${escaped ?? ''}'`);
    }
  });
}

function escapeHeader(text: string): string {
  return text.replace(/[\\\r\n:]/g, (char) => ({ '\\': '\\\\', '\r': '\\r', '\n': '\\n', ':': '\\c' })[char] ?? char);
}

export function encodeFrame(frame: StompFrame, escapeHeaders: boolean): Buffer {
  const escape = escapeHeaders && !UNESCAPED_COMMANDS.has(frame.command);
  let head = `${frame.command}\n`;
  for (const [name, value] of Object.entries(frame.headers)) {
    head += escape ? `${escapeHeader(name)}:${escapeHeader(value)}\n` : `${name}:${value}\n`;
  }
  if (frame.body.length > 0 && !('content-length' in frame.headers)) head += `content-length:${frame.body.length}\n`;
  return Buffer.concat([Buffer.from(`${head}\n`, 'utf8'), frame.body, Buffer.from([NUL])]);
}
