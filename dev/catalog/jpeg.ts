import { createHash } from 'node:crypto';

/**
 * A tiny baseline JPEG encoder for test images: a grayscale picture made of flat 8×8 blocks, so
 * every block is one DC coefficient and an end-of-block. Decoders (libjpeg, browsers) read it.
 */

// The standard luminance DC table (ITU T.81, K.3): code lengths, then symbols 0..11.
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// An AC table with a single 1-bit code, for the only AC symbol used: end of block (0x00).
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0];

/** Canonical Huffman codes (T.81 Annex C): symbol → [code, length]. */
function huffmanCodes(bits: number[], values: number[]): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  bits.forEach((count, i) => {
    for (let j = 0; j < count; j++) codes.set(values[k++] as number, [code++, i + 1]);
    code <<= 1;
  });
  return codes;
}

const DC_CODES = huffmanCodes(DC_BITS, DC_VALUES);
const EOB = huffmanCodes(AC_BITS, AC_VALUES).get(0) as [number, number];

class BitWriter {
  private readonly bytes: number[] = [];
  private buffer = 0;
  private count = 0;

  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.buffer = (this.buffer << 1) | ((value >> i) & 1);
      if (++this.count === 8) this.emit();
    }
  }

  private emit(): void {
    this.bytes.push(this.buffer);
    if (this.buffer === 0xff) this.bytes.push(0x00); // byte stuffing
    this.buffer = 0;
    this.count = 0;
  }

  /** Pads the last byte with 1 bits, as T.81 asks. */
  finish(): Buffer {
    if (this.count > 0) this.write((1 << (8 - this.count)) - 1, 8 - this.count);
    return Buffer.from(this.bytes);
  }
}

function segment(marker: number, payload: number[] | Buffer): Buffer {
  const length = payload.length + 2;
  return Buffer.concat([Buffer.from([0xff, marker, length >> 8, length & 0xff]), Buffer.from(payload)]);
}

export interface JpegOptions {
  /** Pads the file with comment segments up to at least this many bytes. */
  minBytes?: number;
}

/**
 * A small valid JPEG whose pixels and size follow from `key`: the same key gives the same bytes,
 * different keys give different bytes (the key is also written in a comment segment).
 */
export function tinyJpeg(key: string, options: JpegOptions = {}): Buffer {
  const digest = createHash('sha256').update(key).digest();
  const blocksWide = 2 + ((digest[0] as number) % 7);
  const blocksHigh = 2 + ((digest[1] as number) % 7);
  const width = blocksWide * 8;
  const height = blocksHigh * 8;

  const bits = new BitWriter();
  let previous = 0;
  for (let block = 0; block < blocksWide * blocksHigh; block++) {
    const gray = 16 + ((digest[(block * 7 + 2) % digest.length] as number) ^ (block * 29)) % 224;
    const dc = 8 * (gray - 128); // the DC coefficient of a flat block, with a quantiser of 1
    const diff = dc - previous;
    previous = dc;
    const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    const [code, length] = DC_CODES.get(size) as [number, number];
    bits.write(code, length);
    if (size > 0) bits.write(diff > 0 ? diff : diff + (1 << size) - 1, size);
    bits.write(EOB[0], EOB[1]);
  }

  const parts = [
    Buffer.from([0xff, 0xd8]),
    segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    segment(0xfe, Buffer.from(`intake mock image ${key}`.slice(0, 60000), 'utf8')),
    segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]),
    segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    segment(0xc4, [0x00, ...DC_BITS, ...DC_VALUES]),
    segment(0xc4, [0x10, ...AC_BITS, ...AC_VALUES]),
    segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    bits.finish(),
    Buffer.from([0xff, 0xd9]),
  ];
  let total = parts.reduce((sum, part) => sum + part.length, 0);
  const padding: Buffer[] = [];
  while (options.minBytes !== undefined && total < options.minBytes) {
    const size = Math.min(65533, Math.max(1, options.minBytes - total - 4));
    padding.push(segment(0xfe, Buffer.alloc(size, 0x20)));
    total += size + 4;
  }
  parts.splice(3, 0, ...padding);
  return Buffer.concat(parts);
}

/** True when the bytes start like a JPEG (SOI then a marker). */
export function looksLikeJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}
