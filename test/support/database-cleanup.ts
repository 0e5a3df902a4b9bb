import { afterAll } from 'vitest';

const drops: Array<() => Promise<void>> = [];

/** Runs `drop` once the current test file has finished (every test database is dropped, even when a test forgot to). */
export function dropAfterFile(drop: () => Promise<void>): void {
  drops.push(drop);
}

afterAll(async () => {
  const results = await Promise.allSettled(drops.splice(0).map((drop) => drop()));
  for (const result of results) {
    if (result.status === 'rejected') process.stderr.write(`!!! a test database could not be dropped and is left behind: ${String(result.reason)}\n`);
  }
});
