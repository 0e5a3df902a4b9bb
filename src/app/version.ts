import { existsSync, readFileSync } from 'node:fs';

/** package.json sits two levels up from src/app/ and three from dist/src/app/. */
function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'intake' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
