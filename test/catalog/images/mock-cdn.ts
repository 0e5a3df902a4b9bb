import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

const pngChunk = (type: string, data: Buffer) => {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
};

/** A PNG whose header declares `width` × `height` (8-bit RGB) and whose pixel data is `idat`, compressed. */
function pngOf(width: number, height: number, idat: Buffer, tag = ''): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    ...(tag ? [pngChunk('tEXt', Buffer.from(`Comment\0${tag}`, 'latin1'))] : []),
    pngChunk('IDAT', zlib.deflateSync(idat)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 1×1 PNG; a text chunk carrying `tag` makes different tags different files. */
export function png(tag = ''): Buffer {
  return pngOf(1, 1, Buffer.from([0, 200, 40, 90]), tag);
}

/**
 * A decompression bomb: a few dozen bytes whose header declares 50,000 × 50,000 pixels (7.5 GB
 * once decoded), with a tiny IDAT. A valid PNG up to the pixel data, so only its size gives it away.
 */
export function pngBomb(width = 50_000, height = 50_000): Buffer {
  return pngOf(width, height, Buffer.alloc(64));
}

// A 1×1 baseline-free (arithmetic-coded) JPEG: the smallest well-formed JPEG.
const TINY_JPEG_BODY = Buffer.from(
  'ffdb004300030202020202030202020303030304060404040404080606050609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010' +
    'ffc9000b080001000101011100ffcc000600101005ffda0008010100003f00d2cf20ffd9',
  'hex',
);
const JFIF = Buffer.from('ffe000104a46494600010101004800480000', 'hex');

/** A valid 1×1 JPEG; a comment segment carrying `tag` makes different tags different files. */
export function jpeg(tag = ''): Buffer {
  const comment = Buffer.from(tag, 'utf8');
  const segment = Buffer.alloc(4);
  segment.set([0xff, 0xfe]);
  segment.writeUInt16BE(comment.length + 2, 2);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), JFIF, ...(tag ? [segment, comment] : []), TINY_JPEG_BODY]);
}

export type CdnRoute = (request: http.IncomingMessage, response: http.ServerResponse, hit: number) => void;

/**
 * A local CDN on 127.0.0.1 that counts requests per path. Unrouted paths ending in `.png` or
 * `.jpg` get a valid image unique to the path; anything else is a 404.
 */
export class MockCdn {
  readonly hits = new Map<string, number>();
  private readonly routes = new Map<string, CdnRoute>();
  private readonly server = http.createServer((request, response) => this.handle(request, response));
  private base = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  route(path: string, handler: CdnRoute): this {
    this.routes.set(path, handler);
    return this;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  totalHits(): number {
    return [...this.hits.values()].reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0]!;
    const hit = (this.hits.get(path) ?? 0) + 1;
    this.hits.set(path, hit);
    const route = this.routes.get(path);
    if (route) return route(request, response, hit);
    if (path.endsWith('.png')) return send(response, 200, 'image/png', png(path));
    if (path.endsWith('.jpg')) return send(response, 200, 'image/jpeg', jpeg(path));
    send(response, 404, 'text/plain', Buffer.from('not found'));
  }
}

export function send(response: http.ServerResponse, status: number, contentType: string, body: Buffer): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': body.length });
  response.end(body);
}
