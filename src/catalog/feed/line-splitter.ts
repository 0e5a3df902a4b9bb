/**
 * Lines from a byte stream, with memory bounded by the longest line allowed: a longer line is
 * reported with its beginning only, and its bytes are dropped as they arrive.
 */

/** Bytes or text, in chunks of any size: a response body, a file stream, an array of strings. */
export type ChunkSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export type Line =
  | { line: number; text: string; tooLong?: false }
  /** A line longer than the limit: `text` is its beginning, `bytes` its full length. */
  | { line: number; text: string; tooLong: true; bytes: number };

/** How much of a line too long is kept, for the report. */
const HEAD_BYTES = 1024;

export async function* chunksOf(source: ChunkSource): AsyncGenerator<Buffer> {
  // A whole text is one chunk, not a string of one-character chunks.
  if (typeof source === 'string') source = [source];
  for await (const chunk of source) {
    if (typeof chunk === 'string') yield Buffer.from(chunk, 'utf8');
    else if (Buffer.isBuffer(chunk)) yield chunk;
    else yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/**
 * Splits on `\n`, dropping a `\r` before it. Line numbers start at 1. The last line is reported
 * even without a final newline, but an empty last line is not.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let pending = 0;
  let overflow: Buffer | null = null;
  let lineNo = 0;

  const take = (piece: Buffer): void => {
    if (piece.length === 0) return;
    if (overflow === null && pending + piece.length <= maxLineBytes) {
      parts.push(piece);
      pending += piece.length;
      return;
    }
    if (overflow === null) {
      // Copy the beginning, so the chunks it came from are not retained.
      overflow = Buffer.from(Buffer.concat([...parts, piece]).subarray(0, HEAD_BYTES));
      parts = [];
    }
    pending += piece.length;
  };

  const finish = (): Line => {
    lineNo++;
    let line: Line;
    if (overflow !== null) {
      line = { line: lineNo, text: overflow.toString('utf8'), tooLong: true, bytes: pending };
    } else {
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, pending);
      const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
      line = { line: lineNo, text: bytes.toString('utf8', 0, end) };
    }
    parts = [];
    pending = 0;
    overflow = null;
    return line;
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      take(chunk.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    // A piece kept across chunks is copied, so that one short line does not pin a large chunk.
    if (start < chunk.length) take(start === 0 ? chunk : Buffer.from(chunk.subarray(start)));
  }
  if (pending > 0) yield finish();
}
