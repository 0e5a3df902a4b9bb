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
