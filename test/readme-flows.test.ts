import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, killAll, MAIN_JS, ROOT, spawnNode, waitUntilServing, type ManagedProcess } from './support/processes.js';

const run = promisify(execFile);

/** The first `sh` block after `heading` in the README, exactly as a reader would paste it. */
function readmeBlock(heading: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf(`\n${heading}\n`);
  if (section < 0) throw new Error(`README.md has no "${heading}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(section));
  if (!block) throw new Error(`README.md's "${heading}" section has no sh block`);
  return block[1] ?? '';
}

describe('the README "Try the API" flow, pasted twice on a fresh data directory, with a restart between', () => {
  let dataDir: string;
  let apiPort: number;
  let simulatorPort: number;
  let intake: ManagedProcess | undefined;

  const start = async () => {
    intake = spawnNode('intake', MAIN_JS, {
      DATA_DIR: dataDir,
      PORT: String(apiPort),
      SIMULATOR_PORT: String(simulatorPort),
      SIMULATOR_DELAY_MS: '0',
      FEED_INGEST_ON_START: 'false',
      LOG_LEVEL: 'warn',
    });
    await waitUntilServing(intake, `http://127.0.0.1:${apiPort}/ready`, 30_000);
  };
  const stop = async () => {
    intake?.child.kill('SIGTERM');
    await intake?.exitWithin(15_000);
    await intake?.kill();
  };
  /** Runs the block as the README gives it, with only its two ports swapped for this test's. */
  const paste = async () => {
    const block = readmeBlock('## Try the API').replaceAll('localhost:8080', `127.0.0.1:${apiPort}`).replaceAll('localhost:8090', `127.0.0.1:${simulatorPort}`);
    const { stdout } = await run('bash', ['-c', block], { cwd: ROOT, timeout: 30_000 });
    return stdout;
  };

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-readme-'));
    [apiPort, simulatorPort] = await Promise.all([freePort(), freePort()]);
  });
  afterAll(async () => {
    await killAll();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('registers, orders and reads back the first time; signs in and replays the same order the second time', async () => {
    await start();
    const first = await paste();
    await stop();
    await start();
    const second = await paste();
    await stop();

    for (const output of [first, second]) {
      expect(output).toMatch(/^token: \d+\|\S+$/m);
      expect(output).toMatch(/^HTTP\/1\.1 201 /m);
      expect(output).not.toMatch(/Unauthenticated|undefined/);
      expect(output).toContain('"identity":"ACME Ltd"');
      expect(output).toMatch(/"received":\d+/);
    }
    expect(first).not.toMatch(/^idempotent-replayed: true/im);
    expect(second).toMatch(/^idempotent-replayed: true/im);
    const tokenOf = (output: string) => /^token: (\S+)$/m.exec(output)?.[1];
    expect(tokenOf(second)).not.toBe(tokenOf(first));
    expect(first.match(/"id":(\d+)/)?.[1]).toBe(second.match(/"id":(\d+)/)?.[1]);
  }, 120_000);
});
