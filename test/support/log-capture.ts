import { Writable } from 'node:stream';

export interface CapturedLogs {
  /** Give it to `createLogger({ destination })`. */
  destination: Writable;
  /** Every line written so far, as written. */
  lines: string[];
  /** The lines parsed as JSON. */
  records(): Array<Record<string, unknown>>;
}

/** A log destination that keeps what is written, for assertions on log lines. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { destination, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const BASE64 = /^[A-Za-z0-9+/]{16,}={0,2}$/;

/** An array of byte values (0–255), as a Buffer serializes to JSON (`{type:'Buffer', data:[…]}`) or a byte array prints. */
function isByteArray(value: unknown[]): value is number[] {
  return value.length >= 4 && value.every((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255);
}

/**
 * The log lines as written, followed by everything inside them that is encoded: byte arrays and
 * serialized Buffers decoded to text, and base64-looking strings decoded. Search this for secrets:
 * a raw request logged as bytes hides its Authorization header from a plain text search.
 */
export function searchableText(lines: readonly string[]): string {
  const decoded: string[] = [];
  for (const line of lines) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const pending: unknown[] = [value];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (typeof next === 'string') {
        if (BASE64.test(next)) decoded.push(Buffer.from(next, 'base64').toString('latin1'));
      } else if (Array.isArray(next)) {
        if (isByteArray(next)) decoded.push(Buffer.from(next).toString('latin1'));
        else for (const item of next as unknown[]) pending.push(item);
      } else if (typeof next === 'object' && next !== null) {
        for (const item of Object.values(next)) pending.push(item);
      }
    }
  }
  return [...lines, ...decoded].join('\n');
}
