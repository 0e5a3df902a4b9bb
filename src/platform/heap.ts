import v8 from 'node:v8';

/**
 * Bulk work (a feed ingestion parses, hashes and writes a few hundred thousand short-lived
 * objects) makes V8 grow the heap up to four times the live data before it collects, so the
 * process's memory would follow the feed's size. A small growth factor keeps it flat for a
 * little more GC work. V8 reads this flag at every full GC, so setting it after start works.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
