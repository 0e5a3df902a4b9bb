import fs from 'node:fs';

/** Makes durable what was written to a file so far: an fdatasync, on libuv's thread pool. */
export type Datasync = () => Promise<void>;

/**
 * Flushes SQLite's write-ahead log to the disk off the event loop, for commits made with
 * `synchronous = NORMAL` (which write the log without waiting for the disk).
 *
 * `flush()` resolves once a flush that started after the call has finished, so everything
 * committed before the call is durable. Callers that arrive while a flush is running share the
 * next one: there is at most one flush running and one waiting, whatever the load.
 */
export class LogFlusher {
  private running: Promise<void> | undefined;
  private waiting: Promise<void> | undefined;

  constructor(private readonly datasync: Datasync) {}

  flush(): Promise<void> {
    if (this.waiting) return this.waiting;
    if (!this.running) return this.start();
    const waiting = this.running.then(noop, noop).then(() => {
      this.waiting = undefined;
      return this.start();
    });
    this.waiting = waiting;
    return waiting;
  }

  /** Resolves once no flush is running or waiting. */
  async idle(): Promise<void> {
    while (this.running || this.waiting) await (this.waiting ?? this.running)!.then(noop, noop);
  }

  private start(): Promise<void> {
    const run = this.datasync().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}

/**
 * An fdatasync of the file at `file` (SQLite's `<database>-wal`), opened on first use and kept
 * open: SQLite keeps that file, same inode, while the database has a connection open (it only
 * truncates it), and the database's own connection is open until `close`.
 */
export function fileDatasync(file: string): { datasync: Datasync; close: () => Promise<void> } {
  let handle: Promise<fs.promises.FileHandle> | undefined;
  return {
    datasync: async () => {
      handle ??= fs.promises.open(file, 'r+');
      const opened = await handle.catch((error: unknown) => {
        handle = undefined;
        throw error;
      });
      await opened.datasync();
    },
    close: async () => {
      const opened = await handle?.catch(() => undefined);
      handle = undefined;
      await opened?.close();
    },
  };
}

function noop(): void {}
