import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from 'pino';
import sharp, { type Sharp } from 'sharp';
import type { ImageVariantFormat } from '../../config.js';
import { checkImageHeader, decodeOptions, ImageRefusedError, type ImageLimits } from './image-bombs.js';
import { imageRelativePath, ImageStoreError, variantRelativePath, type ImageExt } from './image-files.js';
import { ImageStoreUnavailableError, type ImageStore } from './image-store.js';
import { ImageVariantMemory } from './image-variant-memory.js';

/** One variant: its source (by content hash) and its recipe. */
export interface VariantKey {
  sha256: string;
  ext: ImageExt;
  width: number;
  format: ImageVariantFormat;
}

export interface ImageVariantsOptions extends ImageLimits {
  /** Where the originals are read and the variants stored. */
  store: ImageStore;
  /** Variants made at once (IMAGE_VARIANT_CONCURRENCY); the others wait for a turn. */
  concurrency: number;
  /** IMAGE_VARIANT_MEMORY_MB, in bytes: the variants served lately, kept in memory. */
  memoryBytes: number;
  logger: Pick<Logger, 'warn'>;
  /** Called when a source is about to be decoded, its header checked: tests count the decodes with it. */
  onDecode?: (key: VariantKey) => void;
}

/** Thumbnails for the web; sharp leaves the metadata (EXIF, GPS) out unless asked. */
const ENCODERS: Record<ImageVariantFormat, (image: Sharp) => Sharp> = {
  avif: (image) => image.avif({ quality: 50, effort: 4 }),
  webp: (image) => image.webp({ quality: 80 }),
  // JPEG has no alpha: transparent pixels become white, not whatever colour they hid.
  jpeg: (image) => image.flatten({ background: '#ffffff' }).jpeg({ quality: 80, progressive: true }),
};

/** Variants refused lately, remembered so that asking again does not read their source again. */
const REFUSALS_KEPT = 1_000;

/** A variant's key in the image store, which names it everywhere (memory, flights, refusals). */
const idOf = (key: VariantKey) => variantRelativePath(key.sha256, key.ext, key.width, key.format);
/** A variant's name in memory: as unique as its key, and cheaper to build on every hit. */
const memoryIdOf = (key: VariantKey) => `${key.sha256}.${key.ext}-w${key.width}.${key.format}`;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The whole stored object, or undefined when the key is not stored. A body cut off mid-read is the store's fault, as a failed open is. */
async function readIfStored(store: ImageStore, key: string): Promise<Buffer | undefined> {
  const object = await store.open(key);
  if (!object) return undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of object.body as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (error) {
    throw new ImageStoreUnavailableError('read', error);
  }
  return Buffer.concat(chunks);
}

/**
 * Resized copies of stored images, made on first request and stored beside the originals under
 * a name derived from the source's hash and the recipe, so that each is made once and never
 * changes; the ones served lately are kept in memory too. sharp decodes and encodes on libuv's
 * thread pool, off the event loop, at most `concurrency` at once; the source's header is checked
 * against the limits before any decoding.
 */
export class ImageVariants {
  private readonly flights = new Map<string, Promise<Buffer | undefined>>();
  private readonly refusals = new Map<string, string>();
  private readonly turns: LimitFunction;
  private readonly memory: ImageVariantMemory;

  constructor(private readonly o: ImageVariantsOptions) {
    this.turns = pLimit(o.concurrency);
    this.memory = new ImageVariantMemory(o.memoryBytes);
  }

  /** A variant served lately, from memory; undefined when it is not there. */
  recall(key: VariantKey): Buffer | undefined {
    return this.memory.get(memoryIdOf(key));
  }

  /** A variant already made, read from the store (and kept in memory); undefined when it is not stored. */
  async read(key: VariantKey): Promise<Buffer | undefined> {
    const id = idOf(key);
    const bytes = await readIfStored(this.o.store, id);
    if (bytes) this.memory.keep(memoryIdOf(key), bytes);
    return bytes;
  }

  /**
   * Makes and stores a variant and resolves to its bytes, or to undefined when its source is not
   * stored. Requests for one variant that overlap share one making; across processes sharing
   * the store, a variant made twice is stored once (the store's writes are idempotent). Rejects
   * with ImageRefusedError when the source is a bomb or cannot be decoded.
   */
  make(key: VariantKey): Promise<Buffer | undefined> {
    const id = idOf(key);
    const refusal = this.refusals.get(id);
    if (refusal !== undefined) return Promise.reject(new ImageRefusedError(refusal));
    let flight = this.flights.get(id);
    if (!flight) {
      flight = this.turns(() => this.build(key, id)).finally(() => this.flights.delete(id));
      this.flights.set(id, flight);
    }
    return flight;
  }

  private async build(key: VariantKey, id: string): Promise<Buffer | undefined> {
    // Made while this one waited for its turn: by the making before it, or by another process.
    const made = await this.read(key);
    if (made) return made;
    const source = await readIfStored(this.o.store, imageRelativePath(key.sha256, key.ext));
    if (!source) return undefined;
    const bytes = await this.encode(key, id, source);
    await this.store(id, bytes);
    this.memory.keep(memoryIdOf(key), bytes);
    return bytes;
  }

  private async encode(key: VariantKey, id: string, source: Buffer): Promise<Buffer> {
    try {
      await checkImageHeader(source, this.o);
      this.o.onDecode?.(key);
      return await ENCODERS[key.format](sharp(source, decodeOptions(this.o)).resize({ width: key.width, withoutEnlargement: true })).toBuffer();
    } catch (error) {
      const refused = error instanceof ImageRefusedError ? error : new ImageRefusedError(`image cannot be decoded: ${messageOf(error)}`, { cause: error });
      this.remember(id, refused.message);
      throw refused;
    }
  }

  private remember(id: string, message: string): void {
    this.refusals.set(id, message);
    if (this.refusals.size > REFUSALS_KEPT) this.refusals.delete(this.refusals.keys().next().value!);
  }

  /** Stores the variant. A store that refuses it costs only the cache: the bytes are still served. */
  private async store(id: string, bytes: Buffer): Promise<void> {
    try {
      await this.o.store.put(id, bytes, { bytes: bytes.length });
    } catch (error) {
      if (!(error instanceof ImageStoreError)) throw error;
      this.o.logger.warn({ err: error, variant: id }, 'image variant served but not stored: the image store refused it');
    }
  }
}
