import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, killAll, pollUntil, ROOT, spawnNode, type ManagedProcess } from '../support/processes.js';

const run = promisify(execFile);
const DEMO_JS = path.join(ROOT, 'dist/dev/catalog/demo.js');

describe('npm run demo: the commands of its closing banner paste as they are', () => {
  let dataDir: string;
  let demo: ManagedProcess;
  let commands: string[];

  const paste = async (command: string) => (await run('bash', ['-c', command], { cwd: ROOT, timeout: 30_000 })).stdout;

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake demo '));
    const [port, simulatorPort] = await Promise.all([freePort(), freePort()]);
    demo = spawnNode('demo', DEMO_JS, { DEMO_ITEMS: '20', DATA_DIR: dataDir, PORT: String(port), SIMULATOR_PORT: String(simulatorPort), LOG_LEVEL: 'warn' });
    const banner = await pollUntil(async () => (demo.output().includes('Ctrl-C stops it.') ? demo.output() : undefined), { timeoutMs: 30_000, what: 'the demo banner', diagnostics: () => demo.describe() });
    commands = banner
      .split('\n')
      .filter((line) => line.startsWith('  '))
      .map((line) => line.trim());
  }, 60_000);
  afterAll(async () => {
    await killAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the curl and CLI commands, the CLI ones with the demo DATA_DIR quoted for the shell', () => {
    expect(commands.filter((c) => c.startsWith('curl '))).toHaveLength(2);
    const cli = commands.filter((c) => c.includes(' cli -- '));
    expect(cli).toHaveLength(2);
    for (const command of cli) expect(command.startsWith(`DATA_DIR='${dataDir}' npm run -s cli -- `)).toBe(true);
  });

  it('answers each command from the demo data: the images the feed names, its run, its performers', async () => {
    const stats = commands.find((c) => c.endsWith('images:stats'))!;
    const counted = await pollUntil(
      async () => {
        const output = await paste(stats);
        return /^images: [1-9]\d*/m.test(output) ? output : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 500, what: 'images:stats to count the demo feed images', diagnostics: () => demo.describe() },
    );
    expect(counted).toMatch(/cached bytes/);
    expect(await paste(commands.find((c) => c.endsWith('feed:runs'))!)).toMatch(/succeeded/);
    for (const curl of commands.filter((c) => c.startsWith('curl '))) expect(await paste(curl)).toMatch(/"success":true/);
  }, 60_000);
});
