import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * `<prefix>_` + 26 characters of Crockford base32: 10 of the time in milliseconds, then 16 of
 * randomness (80 bits). Unique without a round trip to the database, and sorted by creation time
 * to the millisecond.
 */
export function timeOrderedId(prefix: string, now: number): string {
  let time = '';
  let rest = Math.max(0, Math.floor(now));
  for (let i = 0; i < 10; i += 1) {
    time = ALPHABET[rest % 32]! + time;
    rest = Math.floor(rest / 32);
  }
  const bytes = randomSlice(10);
  let random = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      random += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return `${prefix}_${time}${random}`;
}

// Random bytes drawn 4 KB at a time: one call into the crypto library per id costs more than the id.
let pool = Buffer.alloc(0);
let offset = 0;

function randomSlice(length: number): Buffer {
  if (offset + length > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += length;
  return pool.subarray(offset - length, offset);
}
