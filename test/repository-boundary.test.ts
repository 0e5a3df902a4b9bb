import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
/** Built from pieces so that this file does not match itself. */
const OUTSIDE = [['..', 'shared'].join('/'), ['shared', 'fixtures'].join('/'), ['', 'work', ''].join('/')];

function trackedFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return listed.split('\n').filter((file) => /^(src|test|bench|scripts|deploy|\.ci)\/|^package\.json$|^vitest\.config\.ts$/.test(file));
}

describe('the repository stands alone', () => {
  it('no source, test, bench or script file reads a path outside the repository', () => {
    const offenders = trackedFiles()
      .filter((file) => fs.existsSync(path.join(ROOT, file)))
      .flatMap((file) => {
        const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
        return OUTSIDE.filter((needle) => text.includes(needle)).map((needle) => `${file}: ${needle}`);
      });
    expect(offenders).toEqual([]);
  });

  it('keeps the real feed excerpt that the tests read', () => {
    const feed = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/feed100.json'), 'utf8')) as { items: unknown[] };
    expect(feed.items).toHaveLength(100);
  });
});
