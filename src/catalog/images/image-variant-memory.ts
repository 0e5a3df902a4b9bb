/**
 * The variants served lately, kept in memory within `maxBytes`, least recently served evicted
 * first. A variant never changes once made, so a copy in memory is never stale: a hot variant is
 * answered without touching the disk (an open, a stat and a read stream cost several times the
 * response itself for a thumbnail of a few kilobytes).
 */
export class ImageVariantMemory {
  private readonly variants = new Map<string, Buffer>();
  private bytes = 0;
  /** Larger variants are not kept: one of them must not push out dozens of thumbnails. */
  private readonly maxEntryBytes: number;

  constructor(private readonly maxBytes: number) {
    this.maxEntryBytes = Math.floor(maxBytes / 16);
  }

  get(id: string): Buffer | undefined {
    const bytes = this.variants.get(id);
    if (bytes === undefined) return undefined;
    // Most recently served last: the first key is the one to evict.
    this.variants.delete(id);
    this.variants.set(id, bytes);
    return bytes;
  }

  keep(id: string, bytes: Buffer): void {
    if (bytes.length > this.maxEntryBytes || this.variants.has(id)) return;
    this.variants.set(id, bytes);
    this.bytes += bytes.length;
    for (const [oldest, evicted] of this.variants) {
      if (this.bytes <= this.maxBytes) break;
      this.variants.delete(oldest);
      this.bytes -= evicted.length;
    }
  }
}
