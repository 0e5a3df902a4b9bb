// `npm start`, `npm run cli` and `npm run demo` build first, but only when a build input is newer
// than the last build: a second command starts at once instead of waiting for tsc.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** What a build reads: when one of them changes, dist/ is stale. */
export const BUILD_INPUTS = ['src', 'dev', 'bench', 'scripts/copy-assets.js', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

/** Written by scripts/copy-assets.js, the last step of `npm run build`. */
export const BUILD_STAMP = 'dist/.build-stamp';

/** The first build input (relative to `root`) that is newer than the last build, or the reason to build; undefined when dist/ is current. */
export function staleReason(root) {
  const stamp = mtimeOf(path.join(root, BUILD_STAMP));
  if (stamp === undefined) return 'no build yet';
  for (const input of BUILD_INPUTS) {
    const newer = firstNewerThan(path.join(root, input), stamp);
    if (newer) return `${path.relative(root, newer)} changed since the last build`;
  }
  return undefined;
}

function firstNewerThan(file, stamp) {
  let stat;
  try {
    stat = fs.statSync(file);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return stat.mtimeMs > stamp ? file : undefined;
  for (const entry of fs.readdirSync(file)) {
    const newer = firstNewerThan(path.join(file, entry), stamp);
    if (newer) return newer;
  }
  return undefined;
}

function mtimeOf(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const reason = staleReason(process.cwd());
  if (reason) {
    process.stderr.write(`intake: building (${reason})\n`);
    const startedAt = new Date();
    const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
    // A source saved while tsc ran is newer than the stamp, so the next command builds again.
    if (build.status === 0) fs.utimesSync(BUILD_STAMP, startedAt, startedAt);
    process.exit(build.status ?? 1);
  }
}
