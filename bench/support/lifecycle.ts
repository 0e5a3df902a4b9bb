import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killChildren } from './processes.js';

const tempDirs: string[] = [];

/** A temp directory removed when the benchmark ends, however it ends. */
export function benchTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function cleanUp(): void {
  killChildren();
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Runs a benchmark's `main`: children killed and temp dirs removed on exit, error or signal. */
export function runBench(name: string, main: () => Promise<void>): void {
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
  main().catch((error: unknown) => {
    process.stderr.write(`\n${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
