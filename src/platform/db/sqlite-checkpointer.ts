import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointerOptions {
  /** The database file. */
  file: string;
  /** How often the thread checkpoints (ms). */
  intervalMs: number;
}

/**
 * Checkpoints a SQLite database in WAL mode from a thread of its own, on a connection of its own,
 * so that copying the log into the database file (and its two fsyncs) never stalls the event
 * loop, as the automatic checkpoint run inside a COMMIT does. PASSIVE checkpoints never block the
 * writer; once one has copied the whole log, the next write transaction starts the log over.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(options: CheckpointerOptions, onError: (error: Error) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(CHECKPOINT_THREAD, { eval: true, workerData: { driver, ...options } });
    this.worker.unref();
    // The thread reports its own failure: an error thrown across threads loses its message.
    this.worker.on('message', (message: { failed?: { message: string; code?: string } }) => {
      if (message.failed) onError(Object.assign(new Error(`SQLite checkpoint thread: ${message.failed.message}`), { code: message.failed.code }));
    });
    this.worker.on('error', onError);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Stops checkpointing and closes the thread's connection. */
  async stop(): Promise<void> {
    // Unreferenced, the thread would not keep the process alive until it has closed its connection.
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}

const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
let timer;
const stop = () => {
  clearTimeout(timer);
  db?.close();
  parentPort.close();
};
const fail = (error) => {
  parentPort.postMessage({ failed: { message: String(error?.message ?? error), code: error?.code } });
  stop();
};
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') return fail(error);
  }
  timer = setTimeout(tick, workerData.intervalMs);
};
try {
  db = new Database(workerData.file);
  db.pragma('busy_timeout = 1000');
  timer = setTimeout(tick, workerData.intervalMs);
} catch (error) {
  fail(error);
}
parentPort.on('message', (message) => {
  if (message === 'stop') stop();
});
`;
