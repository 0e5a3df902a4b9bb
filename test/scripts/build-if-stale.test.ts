import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript run by npm before the build, without type declarations
import { BUILD_STAMP, staleReason } from '../../scripts/build-if-stale.js';

const reasonOf = staleReason as (root: string) => string | undefined;

describe('build-if-stale: npm start and npm run cli rebuild only when a build input changed', () => {
  let root: string;
  const at = (file: string, secondsAgo: number) => {
    const full = path.join(root, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (!fs.existsSync(full)) fs.writeFileSync(full, '');
    const when = new Date(Date.now() - secondsAgo * 1000);
    fs.utimesSync(full, when, when);
  };

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-build-stamp-'));
    at('src/platform/queue/jobs.ts', 60);
    at('package.json', 60);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('builds when there has never been a build', () => {
    expect(reasonOf(root)).toBe('no build yet');
  });

  it('does nothing when every input is older than the last build', () => {
    at(BUILD_STAMP as string, 10);
    expect(reasonOf(root)).toBeUndefined();
  });

  it('names a nested source saved after the last build', () => {
    at(BUILD_STAMP as string, 10);
    at('src/platform/queue/jobs.ts', 1);
    expect(reasonOf(root)).toBe(`${path.join('src', 'platform', 'queue', 'jobs.ts')} changed since the last build`);
  });

  it.each(['dev/catalog/new-file.ts', 'package-lock.json', 'tsconfig.build.json'])('counts %s as a build input', (input) => {
    at(BUILD_STAMP as string, 10);
    at(input, 1);
    expect(reasonOf(root)).toBe(`${path.join(...input.split('/'))} changed since the last build`);
  });
});
