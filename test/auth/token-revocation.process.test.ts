import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, freePort, killAll, MAIN_JS, sleep, spawnNode, waitUntilServing, type ManagedProcess } from '../support/processes.js';

/**
 * Two API processes on one SQLite file, each with its own token cache (AUTH_TOKEN_CACHE_MS at its
 * default, 1000): a token revoked through one is refused by the other within 1 s.
 */
const REVOCATION_BOUND_MS = 1_000;

describe('a token revoked on one API process', () => {
  let dataDir: string;
  const urls: string[] = [];
  const processes: ManagedProcess[] = [];

  beforeAll(async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-revocation-'));
    for (const name of ['api A', 'api B']) {
      const port = await freePort();
      const api = spawnNode(name, MAIN_JS, { ROLE: 'api', PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', SQLITE_SYNCHRONOUS: 'NORMAL' });
      processes.push(api);
      urls.push(`http://127.0.0.1:${port}`);
      // One after the other: the first migrates the shared file.
      await waitUntilServing(api, `${urls.at(-1)}/ready`);
    }
  });

  afterAll(async () => {
    await killAll();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const status = async (url: string, token: string, method = 'GET', route = '/api/user') => {
    const response = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return response.status;
  };

  async function register(url: string, email: string): Promise<string> {
    const password = 'correct horse battery';
    const response = await fetch(`${url}/api/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Revoked', email, password, password_confirmation: password }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  /**
   * Times are taken on this side, so that they bound the servers' from outside: the revocation
   * commits after the logout is sent, and B's verdict is given before its answer arrives. A 401
   * received within 1 s of sending the logout therefore proves B refused within 1 s of the
   * revocation. B verifies (and caches) the token `WARM_LEAD_MS` before the logout; with no lead
   * its entry would expire within a millisecond of the bound, too close to observe from outside.
   */
  const WARM_LEAD_MS = 300;

  it('is refused by the other process within 1 s, and by its own at once', async () => {
    const [a, b] = urls as [string, string];
    const delays: number[] = [];
    for (let round = 0; round < 3; round++) {
      const token = await register(a, `revoked-${round}@example.test`);
      expect(await status(b, token)).toBe(200);
      await sleep(WARM_LEAD_MS);
      const logoutSent = Date.now();
      expect(await status(a, token, 'POST', '/api/logout')).toBe(200);
      expect(await status(a, token)).toBe(401);

      const seen: string[] = [];
      let refusedWithin: number | undefined;
      while (refusedWithin === undefined && Date.now() - logoutSent < REVOCATION_BOUND_MS) {
        const answer = await status(b, token);
        const received = Date.now() - logoutSent;
        seen.push(`${answer}@${received}ms`);
        if (answer === 401 && received <= REVOCATION_BOUND_MS) refusedWithin = received;
      }
      expect(refusedWithin, `B answered ${seen.join(' ')} after the logout was sent\n${processes[1]!.describe()}`).toBeDefined();
      expect(seen.every((answer) => /^(200|401)@/.test(answer))).toBe(true);
      delays.push(refusedWithin!);
    }
    process.stdout.write(`revoked tokens refused by the other process ${delays.join(', ')} ms after the logout was sent (bound ${REVOCATION_BOUND_MS} ms, cached ${WARM_LEAD_MS} ms before)\n`);
  });
});
