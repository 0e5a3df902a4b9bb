import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { finished } from 'node:stream/promises';
import type { NormalizedItem } from './feed-item.js';

export interface StagedItem {
  item: NormalizedItem;
  contentHash: string;
  /** Set when the pornstar exists: the row to update. */
  existingId?: number;
}

/**
 * New and changed items of a run, kept in a file until the whole feed has been read and judged
 * sound, so that a broken feed changes nothing and the catalog is never held in memory.
 */
export class FeedStaging {
  private readonly out: fs.WriteStream;
  count = 0;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.out = fs.createWriteStream(file, { encoding: 'utf8' });
    // A failed open or write (EISDIR, ENOSPC) arrives as an 'error' event, which would end the
    // process if nobody listened: the stream keeps it (`errored`), and add and close rethrow it.
    this.out.on('error', () => undefined);
  }

  async add(staged: StagedItem): Promise<void> {
    this.count++;
    if (this.out.errored) throw this.out.errored;
    // `once` rejects when the stream fails while we wait for it to drain.
    if (!this.out.write(`${JSON.stringify(staged)}\n`)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    if (this.out.errored) throw this.out.errored;
    this.out.end();
    await finished(this.out);
  }

  /** The staged items in batches of `size`. */
  async *batches(size: number): AsyncGenerator<StagedItem[]> {
    const lines = readline.createInterface({ input: fs.createReadStream(this.file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let batch: StagedItem[] = [];
    for await (const line of lines) {
      if (line.length === 0) continue;
      batch.push(JSON.parse(line) as StagedItem);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async discard(): Promise<void> {
    // The stream opens its file asynchronously: removing it before the stream has closed could
    // race the open and leave an empty file behind.
    if (!this.out.closed) await new Promise<void>((resolve) => this.out.once('close', () => resolve()).destroy());
    await fs.promises.rm(this.file, { force: true });
  }
}
