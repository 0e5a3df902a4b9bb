import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DiskImageStore } from '../../../src/catalog/images/disk-image-store.js';
import { ImageStoreError, imageRelativePath, variantRelativePath } from '../../../src/catalog/images/image-files.js';
import { ImageSourceSizeError, ImageStoreUnavailableError, InvalidImageKeyError, type ImageSource, type ImageStore } from '../../../src/catalog/images/image-store.js';
import { createImageStore } from '../../../src/catalog/images/image-store.factory.js';
import { S3ImageStore, type S3ImageStoreOptions } from '../../../src/catalog/images/s3-image-store.js';
import { deferred, waitFor } from '../../support/driver-wait.js';
import { freePort } from '../../support/processes.js';
import { S3RVER_CREDENTIALS, sharedS3Server, type TestS3Server } from '../../support/s3-server.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Random bytes and their content address (the store never looks inside: they need not be a real PNG). */
function image(size = 4096): { bytes: Buffer; key: string } {
  const bytes = randomBytes(size);
  return { bytes, key: imageRelativePath(sha256(bytes), 'png') };
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Pause {
  /** The offset (a multiple of 64 KiB) where the source waits for `until`. */
  at: number;
  until: Promise<void>;
  /** Then fails instead of giving the rest. */
  fail?: boolean;
}

/** `bytes` in 64 KiB chunks, made as they are read; with `pause`, a wait at that offset (and maybe a failure). */
function generated(bytes: number, options: { hash?: ReturnType<typeof createHash>; pause?: Pause } = {}): Readable {
  return Readable.from(
    (async function* () {
      const chunk = 64 * 1024;
      for (let sent = 0; sent < bytes; sent += chunk) {
        if (sent === options.pause?.at) {
          await options.pause.until;
          if (options.pause.fail) throw new Error('source broke mid-way');
        }
        const part = Buffer.alloc(Math.min(chunk, bytes - sent), sent / chunk);
        options.hash?.update(part);
        yield part;
      }
    })(),
    { objectMode: false },
  );
}

interface StoreUnderTest {
  store: ImageStore;
  /** Every object stored, by key (a torn or leftover object included). */
  objects(): Promise<string[]>;
  /** Temp files left behind (disk); none on S3. */
  leftovers(): string[];
  /** Bytes of objects being written, as the backing files show them: temp files on disk, s3rver's object files. */
  inFlightBytes(): Promise<number>;
}

interface Flavour {
  name: 'disk' | 's3';
  setUp(): Promise<void>;
  make(): Promise<StoreUnderTest>;
  tearDown(): Promise<void>;
}

function walk(root: string, dir = root): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(root, full) : [path.relative(root, full)];
  });
}

function sizeOfFiles(root: string, files: string[]): number {
  return files.reduce((sum, file) => sum + (fs.statSync(path.join(root, file), { throwIfNoEntry: false })?.size ?? 0), 0);
}

const dataDirs: string[] = [];
const disk: Flavour = {
  name: 'disk',
  setUp: async () => {},
  make: async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-store-'));
    dataDirs.push(dataDir);
    const store = new DiskImageStore(dataDir);
    return {
      store,
      objects: async () => walk(store.root).filter((file) => !file.startsWith('tmp/')),
      leftovers: () => walk(store.tmpDir),
      inFlightBytes: async () => sizeOfFiles(store.tmpDir, walk(store.tmpDir)),
    };
  },
  tearDown: async () => {
    for (const dir of dataDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  },
};

let server: TestS3Server;
let raw: S3Client;
let prefixes = 0;
const s3Stores: ImageStore[] = [];
const s3Options = (overrides: Partial<S3ImageStoreOptions> = {}): S3ImageStoreOptions => ({
  endpoint: server.endpoint,
  region: 'us-east-1',
  bucket: server.bucket,
  prefix: `run-${++prefixes}/`,
  ...S3RVER_CREDENTIALS,
  forcePathStyle: true,
  ...overrides,
});
const s3: Flavour = {
  name: 's3',
  setUp: async () => {
    server = await sharedS3Server();
    raw = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
  },
  make: async () => {
    const options = s3Options();
    const store = new S3ImageStore(options);
    s3Stores.push(store);
    return {
      store,
      objects: async () => {
        const listed = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: options.prefix }));
        return (listed.Contents ?? []).map((object) => object.Key!.slice(options.prefix.length)).filter((key) => key !== '.write-probe');
      },
      leftovers: () => [],
      inFlightBytes: async () => {
        const dir = path.join(server.directory, server.bucket, options.prefix);
        return sizeOfFiles(dir, walk(dir).filter((file) => file.endsWith('_S3rver_object')));
      },
    };
  },
  tearDown: async () => {
    await Promise.all(s3Stores.splice(0).map((store) => store.close()));
    raw?.destroy();
    await server?.close();
  },
};

for (const flavour of [disk, s3]) {
  describe(`image store contract: ${flavour.name}`, () => {
    let t: StoreUnderTest;
    beforeAll(() => flavour.setUp());
    afterAll(() => flavour.tearDown());
    afterEach(() => {
      // Whatever a case did, no temp file outlives it.
      expect(t?.leftovers() ?? []).toEqual([]);
    });
    const fresh = async () => (t = await flavour.make());

    it('stores the exact bytes, size and content type from a buffer, a file or a stream', async () => {
      const { store, objects } = await fresh();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-source-'));
      const sources: Array<(bytes: Buffer) => ImageSource> = [
        (bytes) => bytes,
        (bytes) => {
          const file = path.join(dir, sha256(bytes));
          fs.writeFileSync(file, bytes);
          return { file };
        },
        (bytes) => Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]),
      ];
      const keys: string[] = [];
      for (const source of sources) {
        const { bytes, key } = image();
        expect(await store.has(key)).toBe(false);
        expect(await store.put(key, source(bytes), { bytes: bytes.length })).toBe('created');
        expect(await store.has(key)).toBe(true);
        const opened = await store.open(key);
        expect(opened).toMatchObject({ size: bytes.length, contentType: 'image/png' });
        expect((await readAll(opened!.body)).equals(bytes)).toBe(true);
        keys.push(key);
      }
      // A file source is read, never moved or removed.
      expect(fs.readdirSync(dir)).toHaveLength(1);
      fs.rmSync(dir, { recursive: true, force: true });
      expect((await objects()).sort()).toEqual(keys.sort());
    });

    it('stores a variant under its key, with its format as content type', async () => {
      const { store } = await fresh();
      const bytes = randomBytes(500);
      const key = variantRelativePath(sha256(randomBytes(8)), 'jpg', 160, 'webp');
      expect(await store.put(key, bytes, { bytes: bytes.length })).toBe('created');
      const opened = await store.open(key);
      expect(opened).toMatchObject({ size: 500, contentType: 'image/webp' });
      expect((await readAll(opened!.body)).equals(bytes)).toBe(true);
    });

    it('writes a key once: a second put writes nothing, leaves its stream unread, and one object stays', async () => {
      const { store, objects } = await fresh();
      const { bytes, key } = image();
      expect(await store.put(key, bytes, { bytes: bytes.length })).toBe('created');
      const again = Readable.from([bytes]);
      expect(await store.put(key, again, { bytes: bytes.length })).toBe('existing');
      expect(again.readableDidRead).toBe(false);
      expect(again.destroyed).toBe(true);
      expect(await objects()).toEqual([key]);
      expect((await readAll((await store.open(key))!.body)).equals(bytes)).toBe(true);
    });

    it('two concurrent puts of one key leave one whole object', async () => {
      const { store, objects } = await fresh();
      const { bytes, key } = image(256 * 1024);
      const outcomes = await Promise.all([store.put(key, Readable.from([bytes]), { bytes: bytes.length }), store.put(key, bytes, { bytes: bytes.length })]);
      expect(outcomes).toContain('created');
      // On disk link(2) lets exactly one win; s3rver ignores If-None-Match, so both may write (the same bytes).
      if (flavour.name === 'disk') expect(outcomes.sort()).toEqual(['created', 'existing']);
      expect(await objects()).toEqual([key]);
      const opened = await store.open(key);
      expect(opened!.size).toBe(bytes.length);
      expect((await readAll(opened!.body)).equals(bytes)).toBe(true);
    });

    it('answers a missing key with undefined and false', async () => {
      const { store } = await fresh();
      const { key } = image();
      expect(await store.open(key)).toBeUndefined();
      expect(await store.has(key)).toBe(false);
    });

    it('a source that fails mid-way rejects with its error and leaves nothing under the key', async () => {
      const { store, objects, inFlightBytes } = await fresh();
      const size = 3 * 1024 * 1024;
      const { key } = image();
      const reached = deferred();
      const putting = store.put(key, generated(size, { pause: { at: size / 3, until: reached.promise, fail: true } }), { bytes: size });
      // The failure comes once the first third is in the store (s3rver writes a PUT in place as it arrives).
      await waitFor(async () => (await inFlightBytes()) >= size / 3, 10_000, 'the first bytes to reach the store');
      reached.resolve();
      await expect(putting).rejects.toThrow('source broke mid-way');
      expect(await store.has(key)).toBe(false);
      expect(await store.open(key)).toBeUndefined();
      expect(await objects()).toEqual([]);
      // Nothing torn blocks the key: the next put stores it whole.
      expect(await store.put(key, generated(size), { bytes: size })).toBe('created');
      const opened = (await store.open(key))!;
      expect(opened.size).toBe(size);
      opened.body.destroy();
    });

    it('refuses a source that gives fewer or more bytes than announced, storing nothing', async () => {
      const { store, objects, inFlightBytes } = await fresh();
      const { bytes, key } = image();
      await expect(store.put(key, bytes, { bytes: bytes.length + 1 })).rejects.toThrow(ImageSourceSizeError);
      const size = 1024 * 1024;
      for (const announced of [size + 1, size - 1]) {
        const reached = deferred();
        const putting = store.put(key, generated(size, { pause: { at: size / 2, until: reached.promise } }), { bytes: announced });
        await waitFor(async () => (await inFlightBytes()) >= size / 2, 10_000, 'the first half to reach the store');
        reached.resolve();
        await expect(putting).rejects.toThrow(ImageSourceSizeError);
        expect(await objects()).toEqual([]);
      }
    });

    it('streams a large object through: its first bytes are stored before the source has given the rest', async () => {
      const { store, inFlightBytes } = await fresh();
      const size = 24 * 1024 * 1024;
      const { key } = image();
      const written = createHash('sha256');
      const gate = deferred();
      const source = generated(size, { hash: written, pause: { at: size / 2, until: gate.promise } });
      const putting = store.put(key, source, { bytes: size });
      // Held at half the object: a store that buffered it whole would have written nothing yet.
      await waitFor(async () => (await inFlightBytes()) >= size / 4, 10_000, 'the first bytes to reach the store');
      gate.resolve();
      expect(await putting).toBe('created');
      const opened = (await store.open(key))!;
      expect(opened.size).toBe(size);
      const read = createHash('sha256');
      for await (const chunk of opened.body) read.update(chunk as Buffer);
      expect(read.digest('hex')).toBe(written.digest('hex'));
    });

    it('refuses keys outside the content-address shape, touching nothing', async () => {
      const { store, objects } = await fresh();
      const hash = sha256(Buffer.from('x'));
      const refused = [
        '',
        '../../etc/passwd',
        `${hash}.png`,
        `/${imageRelativePath(hash, 'png')}`,
        `ff/ff/${hash}.png`,
        imageRelativePath(hash.toUpperCase(), 'png'),
        imageRelativePath(hash, 'svg'),
        `${imageRelativePath(hash, 'png')}-w160.webp`,
        `variants/${imageRelativePath(hash, 'png')}`,
        variantRelativePath(hash, 'png', 0, 'webp'),
        variantRelativePath(hash, 'png', 160, 'gif'),
        `${imageRelativePath(hash, 'png')}/../../x.png`,
        '.write-probe',
      ];
      for (const key of refused) {
        await expect(store.has(key), key).rejects.toThrow(InvalidImageKeyError);
        await expect(store.open(key), key).rejects.toThrow(InvalidImageKeyError);
        await expect(store.put(key, Buffer.from('x'), { bytes: 1 }), key).rejects.toThrow(InvalidImageKeyError);
      }
      expect(await objects()).toEqual([]);
    });

    it('is writable while it can take an object', async () => {
      const { store } = await fresh();
      await expect(store.checkWritable()).resolves.toBeUndefined();
    });
  });
}

const otherFileSystem = fs.existsSync('/dev/shm') && fs.statSync('/dev/shm').dev !== fs.statSync(os.tmpdir()).dev ? '/dev/shm' : undefined;

describe('image store on disk: what only a directory does', () => {
  it('links a file source on the same file system (no copy) and copies one from another', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-store-'));
    onTestFinished(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const store = new DiskImageStore(dataDir);
    const near = image();
    const nearFile = path.join(dataDir, 'near.part');
    fs.writeFileSync(nearFile, near.bytes);
    expect(await store.put(near.key, { file: nearFile }, { bytes: near.bytes.length })).toBe('created');
    expect(fs.statSync(store.pathOf(near.key)).ino).toBe(fs.statSync(nearFile).ino);
    if (!otherFileSystem) return;
    const far = image();
    const farFile = path.join(fs.mkdtempSync(path.join(otherFileSystem, 'intake-image-source-')), 'far.part');
    onTestFinished(() => fs.rmSync(path.dirname(farFile), { recursive: true, force: true }));
    fs.writeFileSync(farFile, far.bytes);
    expect(await store.put(far.key, { file: farFile }, { bytes: far.bytes.length })).toBe('created');
    expect(fs.readFileSync(store.pathOf(far.key)).equals(far.bytes)).toBe(true);
    expect(fs.existsSync(farFile)).toBe(true);
    expect(fs.readdirSync(store.tmpDir)).toEqual([]);
  });

  it('stores again after its directory was wiped behind its back, from a file and from a buffer', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-store-'));
    onTestFinished(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const store = new DiskImageStore(dataDir);
    const first = image();
    expect(await store.put(first.key, first.bytes, { bytes: first.bytes.length })).toBe('created');
    fs.rmSync(store.root, { recursive: true, force: true });
    const source = path.join(fs.mkdtempSync(path.join(dataDir, 'source-')), 'a.part');
    fs.writeFileSync(source, first.bytes);
    // Its directories are the ones the store remembers having made.
    expect(await store.put(first.key, { file: source }, { bytes: first.bytes.length })).toBe('created');
    expect(fs.readFileSync(store.pathOf(first.key)).equals(first.bytes)).toBe(true);
    fs.rmSync(store.root, { recursive: true, force: true });
    expect(await store.put(first.key, first.bytes, { bytes: first.bytes.length })).toBe('created');
    expect(fs.readFileSync(store.pathOf(first.key)).equals(first.bytes)).toBe(true);
  });

  it('a store that cannot write rejects with the retryable store error, and readiness says so', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-store-'));
    try {
      // DATA_DIR/images is a file: no directory can be made in it.
      fs.writeFileSync(path.join(dataDir, 'images'), 'not a directory');
      const store = new DiskImageStore(dataDir, { writeCheckTtlMs: 60_000 });
      const { bytes, key } = image();
      const failure = await store.put(key, bytes, { bytes: bytes.length }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ImageStoreUnavailableError);
      expect(failure).toBeInstanceOf(ImageStoreError);
      await expect(store.checkWritable()).rejects.toThrow(ImageStoreError);
      // Not "absent": a path that cannot hold the file is a fault for reads too.
      await expect(store.open(key)).rejects.toThrow(ImageStoreUnavailableError);
      await expect(store.has(key)).rejects.toThrow(ImageStoreUnavailableError);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('image store on S3: what only a bucket does', () => {
  beforeAll(() => s3.setUp());
  afterAll(() => s3.tearDown());

  it('signs a URL that serves the object over HTTP until it expires', async () => {
    const store = new S3ImageStore(s3Options());
    s3Stores.push(store);
    const { bytes, key } = image();
    await store.put(key, bytes, { bytes: bytes.length });
    const url = await store.presignedUrl(key, 60);
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    // Signed 2 minutes ago for 60 s: expired, without waiting for it.
    const expired = await getSignedUrl(raw, new GetObjectCommand({ Bucket: server.bucket, Key: new URL(url).pathname.split('/').slice(2).join('/') }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });
    const refused = await fetch(expired);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Request has expired');
    await expect(store.presignedUrl(key, 0)).rejects.toThrow(RangeError);
    await expect(store.presignedUrl('../x', 60)).rejects.toThrow(InvalidImageKeyError);
  });

  it('overwrites a torn object (another size than its key was written with) instead of keeping it', async () => {
    const options = s3Options();
    const store = new S3ImageStore(options);
    s3Stores.push(store);
    const { bytes, key } = image();
    await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: options.prefix + key, Body: bytes.subarray(0, 100) }));
    expect(await store.put(key, bytes, { bytes: bytes.length })).toBe('created');
    const opened = (await store.open(key))!;
    expect((await readAll(opened.body)).equals(bytes)).toBe(true);
  });

  it('an unreachable endpoint is a retryable store error, quickly, never "absent"', async () => {
    const store = new S3ImageStore(s3Options({ endpoint: `http://127.0.0.1:${await freePort()}`, writeCheckTtlMs: 60_000 }));
    s3Stores.push(store);
    const { bytes, key } = image();
    const started = performance.now();
    const attempts = [store.has(key), store.open(key), store.put(key, bytes, { bytes: bytes.length }), store.put(key, Readable.from([bytes]), { bytes: bytes.length })];
    for (const failure of await Promise.all(attempts.map((attempt) => attempt.catch((error: unknown) => error)))) {
      expect(failure).toBeInstanceOf(ImageStoreUnavailableError);
      expect(failure).toBeInstanceOf(ImageStoreError);
      expect((failure as Error).message).toMatch(/ECONNREFUSED/);
    }
    await expect(store.checkWritable()).rejects.toThrow(ImageStoreUnavailableError);
    // Three attempts with the SDK's backoff each, not a socket timeout.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('a missing bucket is a store error, not an absent key', async () => {
    const store = new S3ImageStore(s3Options({ bucket: 'no-such-bucket', maxAttempts: 1 }));
    s3Stores.push(store);
    const { bytes, key } = image();
    await expect(store.open(key)).rejects.toThrow(ImageStoreUnavailableError);
    await expect(store.put(key, bytes, { bytes: bytes.length })).rejects.toThrow(ImageStoreUnavailableError);
    await expect(store.checkWritable()).rejects.toThrow(ImageStoreUnavailableError);
  });

  it('createImageStore builds the store IMAGE_STORE names', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-image-store-'));
    onTestFinished(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const s3Config = { endpoint: server.endpoint, region: 'us-east-1', bucket: server.bucket, prefix: 'factory/', ...S3RVER_CREDENTIALS, forcePathStyle: true };
    const onDisk = await createImageStore({ dataDir, store: { driver: 'disk', s3: s3Config } });
    const inBucket = await createImageStore({ dataDir, store: { driver: 's3', s3: s3Config } });
    s3Stores.push(inBucket);
    expect([onDisk.kind, inBucket.kind]).toEqual(['disk', 's3']);
    const { bytes, key } = image();
    await inBucket.put(key, bytes, { bytes: bytes.length });
    expect(await onDisk.has(key)).toBe(false);
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'factory/' }));
    expect(listed.Contents?.map((object) => object.Key)).toEqual([`factory/${key}`]);
    await expect(createImageStore({ dataDir, store: { driver: 's3', s3: { ...s3Config, bucket: undefined } } })).rejects.toThrow(/IMAGE_S3_BUCKET/);
  });
});
