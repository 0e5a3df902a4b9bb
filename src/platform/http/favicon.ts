import { createHash } from 'node:crypto';

export interface Icon {
  body: Buffer;
  contentType: string;
  etag: string;
}

/** A lower-case "i" in white on a blue tile with cut corners, on a 16-unit grid: [x, y, width, height]. */
const GRID = 16;
const BLUE = [0x24, 0x56, 0xc7] as const;
const WHITE = [0xff, 0xff, 0xff] as const;
const GLYPH: ReadonlyArray<readonly [number, number, number, number]> = [
  [7, 3, 2, 2],
  [7, 7, 2, 6],
];

const hex = (rgb: readonly number[]) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;

function icon(body: Buffer, contentType: string): Icon {
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` };
}

export function faviconSvg(): Icon {
  const glyph = GLYPH.map(([x, y, w, h]) => `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${hex(WHITE)}"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${GRID} ${GRID}"><rect width="${GRID}" height="${GRID}" rx="3" fill="${hex(BLUE)}"/>${glyph}</svg>`;
  return icon(Buffer.from(svg), 'image/svg+xml');
}

/** The same picture as a 32×32 ICO (one 32-bit BMP image), for browsers that ask for `/favicon.ico` and take no SVG. */
export function faviconIco(): Icon {
  const size = 32;
  const scale = size / GRID;
  const pixels = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    // BMP rows run bottom-up.
    const y = (size - 1 - row) / scale;
    for (let column = 0; column < size; column++) {
      const x = column / scale;
      const offset = (row * size + column) * 4;
      if (cutCorner(Math.floor(x), Math.floor(y))) continue;
      const [r, g, b] = GLYPH.some(([gx, gy, w, h]) => x >= gx && x < gx + w && y >= gy && y < gy + h) ? WHITE : BLUE;
      pixels.set([b, g, r, 0xff], offset);
    }
  }
  // The AND mask: one bit per pixel, rows padded to 4 bytes; all zero, since the alpha channel decides.
  const mask = Buffer.alloc(size * 4);
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8);
  header.writeUInt16LE(1, 12);
  header.writeUInt16LE(32, 14);
  header.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([header, pixels, mask]);

  const directory = Buffer.alloc(6 + 16);
  directory.writeUInt16LE(1, 2);
  directory.writeUInt16LE(1, 4);
  directory.writeUInt8(size, 6);
  directory.writeUInt8(size, 7);
  directory.writeUInt16LE(1, 10);
  directory.writeUInt16LE(32, 12);
  directory.writeUInt32LE(image.length, 14);
  directory.writeUInt32LE(directory.length, 18);
  return icon(Buffer.concat([directory, image]), 'image/x-icon');
}

/** The grid cells left transparent to round the tile's corners. */
function cutCorner(x: number, y: number): boolean {
  const edge = (v: number) => Math.min(v, GRID - 1 - v);
  return edge(x) + edge(y) < 1;
}
