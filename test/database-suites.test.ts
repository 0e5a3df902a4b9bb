import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const TEST_ROOT = import.meta.dirname;
const THIS_FILE = path.basename(import.meta.filename);

/**
 * Ways a suite follows the run's engine (`TEST_DIALECT`): the PostgreSQL and MySQL projects only
 * pick up `*.db.test.ts`, so such a suite under another name would silently run on SQLite alone.
 * Suites that name their engines themselves (`createEmptyDatabase('postgres')`, loops over
 * dialects) and the SQLite-only suites built on the test app are not caught, and need not be.
 */
const FOLLOWS_RUN_DIALECT: Array<[string, RegExp]> = [
  ['reads TEST_DIALECT', /TEST_DIALECT/],
  ['calls testDialect()', /\btestDialect\(/],
  ["calls createTempDatabase without a dialect (the run's)", /\bcreateTempDatabase\(\s*[^,()]*\)/],
  ["calls dialectServices() without a dialect (the run's)", /\bdialectServices\(\s*\)/],
];

/** Suites that follow the run's engine but may stay on SQLite: none today; a name here needs a reason beside it. */
const SQLITE_ONLY_FOR_NOW = new Set<string>();

function testFiles(): string[] {
  return (fs.readdirSync(TEST_ROOT, { recursive: true }) as string[])
    .map((file) => file.split(path.sep).join('/'))
    .filter((file) => file.endsWith('.test.ts') && file !== THIS_FILE);
}

describe('the suites that run on every engine', () => {
  it('are exactly the ones named *.db.test.ts: no other suite follows the run’s engine', () => {
    const offenders = testFiles()
      .filter((file) => !file.endsWith('.db.test.ts') && !SQLITE_ONLY_FOR_NOW.has(file))
      .flatMap((file) => {
        const text = fs.readFileSync(path.join(TEST_ROOT, file), 'utf8');
        return FOLLOWS_RUN_DIALECT.filter(([, pattern]) => pattern.test(text)).map(([what]) => `${file} ${what}: name it *.db.test.ts`);
      });
    expect(offenders).toEqual([]);
  });

  it('lists as SQLite-only exceptions only files that exist and still need the exception', () => {
    const files = new Set(testFiles());
    for (const file of SQLITE_ONLY_FOR_NOW) {
      expect(files.has(file), file).toBe(true);
      const text = fs.readFileSync(path.join(TEST_ROOT, file), 'utf8');
      expect(FOLLOWS_RUN_DIALECT.some(([, pattern]) => pattern.test(text)), file).toBe(true);
    }
  });
});
