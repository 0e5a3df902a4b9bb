/**
 * Lines from a byte stream. A line up to the piece size comes whole; a longer one (a minified
 * feed is one line) comes in pieces of about that size, so memory stays bounded whatever the
 * layout.
 */

/** Bytes or text, in chunks of any size: a response body, a file stream, an array of strings. */
export type ChunkSource = AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

/** A line, or a piece of a long one: `start` and `end` say whether it begins or ends its line. */
export interface LinePiece {
  /** The line's number, from 1. */
  line: number;
  text: string;
  start: boolean;
  end: boolean;
  /** The text ended on this line, without a line break after it. */
  eof?: true;
}

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
 * Splits on `\n`, dropping a `\r` before it. The last line is reported even without a final
 * newline, but an empty last line is not. A character split between two pieces is decoded whole.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>, pieceBytes: number): AsyncGenerator<LinePiece> {
  let parts: Buffer[] = [];
  let pending = 0;
  let lineNo = 1;
  let started = false;
  const decoder = new TextDecoder('utf-8');

  const piece = (end: boolean): LinePiece => {
    let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, pending);
    if (end && bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    // A whole line is decoded on its own (the fast path); the pieces of a long one share a decoder.
    const text = end && !started ? bytes.toString('utf8') : decoder.decode(bytes, { stream: !end });
    const made = { line: lineNo, text, start: !started, end };
    parts = [];
    pending = 0;
    started = !end;
    if (end) lineNo++;
    return made;
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      if (nl > start) parts.push(chunk.subarray(start, nl));
      pending += nl - start;
      yield piece(true);
      start = nl + 1;
    }
    if (start < chunk.length) {
      // A part kept across chunks is copied, so that one short line does not pin a large chunk.
      parts.push(start === 0 ? chunk : Buffer.from(chunk.subarray(start)));
      pending += chunk.length - start;
      if (pending >= pieceBytes) yield piece(false);
    }
  }
  if (pending > 0 || started) yield { ...piece(true), eof: true };
}
