import { afterAll } from 'vitest';

type Drop = () => Promise<void>;

/**
 * The drops of the current test file. Kept on the global object: with isolation off (see
 * vitest.config.ts) this setup file runs again before each test file, but the helpers that call
 * `dropAfterFile` keep the module instance they first imported.
 */
const globalDrops = globalThis as typeof globalThis & { intakeTestDrops?: Drop[] };
const drops = (globalDrops.intakeTestDrops ??= []);

/** Runs `drop` once the current test file has finished (every test database is dropped, even when a test forgot to). */
export function dropAfterFile(drop: Drop): void {
  drops.push(drop);
}

afterAll(async () => {
  const results = await Promise.allSettled(drops.splice(0).map((drop) => drop()));
  for (const result of results) {
    if (result.status === 'rejected') process.stderr.write(`!!! a test database could not be dropped and is left behind: ${String(result.reason)}\n`);
  }
});
