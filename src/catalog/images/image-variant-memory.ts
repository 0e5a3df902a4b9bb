/**
 * The variants served lately, kept in memory within `maxBytes`. A variant never changes once made,
 * so a copy in memory is never stale: a hot variant is answered without touching the store (an
 * open, a stat and a read stream cost several times the response itself for a thumbnail of a few
 * kilobytes). Eviction is CLOCK (second chance): a hit only marks its entry, which costs less on
 * the hot path than reordering a map, and an entry that was served since the hand last passed is
 * spared once; the rest go in the order they were kept.
 */
export class ImageVariantMemory {
  private readonly variants = new Map<string, { bytes: Buffer; served: boolean }>();
  private bytes = 0;
  /** Larger variants are not kept: one of them must not push out dozens of thumbnails. */
  private readonly maxEntryBytes: number;

  constructor(private readonly maxBytes: number) {
    this.maxEntryBytes = Math.floor(maxBytes / 16);
  }

  get(id: string): Buffer | undefined {
    const entry = this.variants.get(id);
    if (entry === undefined) return undefined;
    entry.served = true;
    return entry.bytes;
  }

  keep(id: string, bytes: Buffer): void {
    if (bytes.length > this.maxEntryBytes || this.variants.has(id)) return;
    this.variants.set(id, { bytes, served: false });
    this.bytes += bytes.length;
    while (this.bytes > this.maxBytes) this.evictOne(id);
  }

  /** Evicts the first entry not served since the hand last passed it; never `kept`, the one just kept. */
  private evictOne(kept: string): void {
    for (const [id, entry] of this.variants) {
      this.variants.delete(id);
      if (entry.served || id === kept) {
        // Its second chance: to the back, unmarked.
        entry.served = false;
        this.variants.set(id, entry);
      } else {
        this.bytes -= entry.bytes.length;
        return;
      }
    }
  }
}
