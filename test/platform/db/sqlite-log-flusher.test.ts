import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fileDatasync, LogFlusher } from '../../../src/platform/db/sqlite-log-flusher.js';
import { deferred, type Deferred } from '../../support/driver-wait.js';

/** A datasync whose runs the test finishes by hand. */
function manualDatasync() {
  const runs: Array<Deferred<void>> = [];
  return {
    runs,
    datasync: () => {
      const run = deferred();
      runs.push(run);
      return run.promise;
    },
  };
}

const settledState = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('LogFlusher', () => {
  it('starts a flush at once when none is running', async () => {
    const { runs, datasync } = manualDatasync();
    const flusher = new LogFlusher(datasync);
    const flushed = flusher.flush();
    expect(runs).toHaveLength(1);
    runs[0]!.resolve();
    await flushed;
  });

  it('answers a call made during a flush only after a flush that started after it, shared by every such call', async () => {
    const { runs, datasync } = manualDatasync();
    const flusher = new LogFlusher(datasync);
    const early = flusher.flush();
    const late = [flusher.flush(), flusher.flush(), flusher.flush()];
    expect(runs).toHaveLength(1);
    runs[0]!.resolve();
    await early;
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toHaveLength(2);
    expect(await settledState(late[0]!)).toBe('pending');
    runs[1]!.resolve();
    await Promise.all(late);
    expect(runs).toHaveLength(2);
  });

  it('rejects the callers of a failed flush, and runs the next flush anew', async () => {
    const { runs, datasync } = manualDatasync();
    const flusher = new LogFlusher(datasync);
    const failed = flusher.flush();
    const waiting = flusher.flush();
    runs[0]!.reject(new Error('EIO'));
    await expect(failed).rejects.toThrow('EIO');
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toHaveLength(2);
    runs[1]!.resolve();
    await waiting;
    const next = flusher.flush();
    expect(runs).toHaveLength(3);
    runs[2]!.resolve();
    await next;
  });

  it('is idle once no flush is running or waiting', async () => {
    const { runs, datasync } = manualDatasync();
    const flusher = new LogFlusher(datasync);
    void flusher.flush();
    void flusher.flush();
    const idle = flusher.idle();
    runs[0]!.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await settledState(idle)).toBe('pending');
    runs[1]!.resolve();
    await idle;
  });
});

describe('fileDatasync', () => {
  it('flushes a real file through one handle, kept open until closed', async () => {
    const file = path.join(os.tmpdir(), `intake-datasync-${process.pid}-${randomUUID()}`);
    fs.writeFileSync(file, 'log');
    try {
      const log = fileDatasync(file);
      await log.datasync();
      fs.appendFileSync(file, ' more');
      await log.datasync();
      await log.close();
      await log.close();
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('fails with the error of a file that cannot be opened, and tries again on the next call', async () => {
    const file = path.join(os.tmpdir(), `intake-datasync-missing-${process.pid}-${randomUUID()}`);
    const log = fileDatasync(file);
    await expect(log.datasync()).rejects.toMatchObject({ code: 'ENOENT' });
    fs.writeFileSync(file, 'now here');
    try {
      await log.datasync();
      await log.close();
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
