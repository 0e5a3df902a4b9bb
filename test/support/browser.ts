import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { describe } from 'vitest';
import { ROOT } from './processes.js';

/** Where the browser tests leave their screenshots. */
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'admin-dashboard');

/** Debian's chromium (never a downloaded browser), found on the PATH. */
export function chromiumPath(): string | undefined {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * A describe block that drives Debian's chromium. In CI a missing chromium fails the run (`.ci/run`
 * installs it); elsewhere the block is skipped with a loud notice.
 */
export function describeWithChromium(title: string, body: (executablePath: string) => void): void {
  const executablePath = chromiumPath();
  if (!executablePath) {
    if (process.env.CI === 'true') throw new Error(`"${title}" needs chromium on the PATH; .ci/run installs it (apt-get install -y chromium)`);
    process.stderr.write(`\n!!! SKIPPED "${title}": chromium is not installed. These tests run in CI; \`apt-get install -y chromium\` to run them here.\n\n`);
  }
  describe.skipIf(!executablePath)(title, () => body(executablePath ?? ''));
}

/** Headless, and without the background connections that a closed network refuses. */
export function launchChromium(executablePath: string): Promise<Browser> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
