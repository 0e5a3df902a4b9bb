import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forcedExitNotice, shutdownNotice } from '../../src/app/role-runner.js';
import { readJobs, registerUser, requestJson } from '../e2e/support/intake.js';
import { assertBuilt, freePort, killAll, MAIN_JS, pollUntil, spawnNode, waitUntilServing } from '../support/processes.js';

describe('shutdown notices', () => {
  const worker = (jobs: number) => ({ runsJobs: true, jobsInFlight: () => jobs });

  it('say what the shutdown waits for, at most how long, and that a second signal forces the exit', () => {
    expect(shutdownNotice('SIGINT', worker(3), 30_000)).toBe(
      'SIGINT: shutting down; waiting up to 30 s (SHUTDOWN_TIMEOUT_MS) for 3 jobs in flight, then giving the unfinished back to the queue; a second SIGINT (Ctrl-C again) exits at once, giving them back first',
    );
    expect(shutdownNotice('SIGTERM', worker(1), 2_500)).toContain('waiting up to 2.5 s (SHUTDOWN_TIMEOUT_MS) for 1 job in flight');
    expect(shutdownNotice('SIGINT', worker(0), 30_000)).toBe('SIGINT: shutting down; no jobs in flight; a second SIGINT (Ctrl-C again) exits at once');
    expect(shutdownNotice('SIGTERM', { runsJobs: false, jobsInFlight: () => 0 }, 30_000)).toBe(
      'SIGTERM: shutting down; finishing the requests in progress; a second SIGTERM (Ctrl-C again) exits at once',
    );
    expect(forcedExitNotice('SIGINT', 2)).toBe('second SIGINT: giving 2 jobs in flight back to the queue (at most 2 s), then exiting');
    expect(forcedExitNotice('SIGINT', 0)).toBe('second SIGINT: exiting now');
  });
});

/** The embedded default with a simulator that takes a minute: the order's job is in flight when Ctrl-C comes. */
describe('Ctrl-C twice with a job in flight', () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    await killAll();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says what it waits for, then gives the job back at once: available again, its attempt not counted', async () => {
    assertBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'intake-shutdown-'));
    const [port, simulatorPort] = await Promise.all([freePort(), freePort()]);
    const url = `http://127.0.0.1:${port}`;
    const intake = spawnNode('all', MAIN_JS, {
      ROLE: 'all',
      PORT: String(port),
      SIMULATOR_PORT: String(simulatorPort),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      FEED_INGEST_ON_START: 'false',
      SIMULATOR_DELAY_MS: '60000',
      SIMULATOR_FAILURE_RATE: '0',
      SHUTDOWN_TIMEOUT_MS: '30000',
      JOB_LEASE_MS: '120000',
    });
    await waitUntilServing(intake, `${url}/ready`);
    const token = await registerUser(url, 'shutdown@example.test');
    const order = { client: { identity: 'ACME', contact_point: 'ops@acme.test' }, contents: [{ label: 'Plan', kind: 'recurring', cost: 10 }] };
    expect((await requestJson(`${url}/api/orders`, { method: 'POST', token, body: order })).status).toBe(201);
    await pollUntil(async () => (readJobs(dataDir!).some((job) => job.state === 'active') ? true : undefined), { timeoutMs: 10_000, what: 'the job to be in flight', diagnostics: () => intake.describe() });

    const lines = () => intake.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    intake.child.kill('SIGINT');
    const notice = await pollUntil(async () => lines().find((line) => String(line.msg).startsWith('SIGINT: shutting down')), { timeoutMs: 5_000, what: 'the shutdown notice', diagnostics: () => intake.describe() });
    expect(notice).toMatchObject({ jobsInFlight: 1, drainTimeoutMs: 30_000 });
    expect(notice.msg).toContain('waiting up to 30 s (SHUTDOWN_TIMEOUT_MS) for 1 job in flight');
    expect(notice.msg).toContain('a second SIGINT (Ctrl-C again) exits at once');
    // Still draining: the simulator answers in a minute.
    expect(await intake.exitWithin(300)).toBeUndefined();
    expect(readJobs(dataDir)[0]).toMatchObject({ state: 'active', attempts: 1 });

    const forcedAt = Date.now();
    intake.child.kill('SIGINT');
    const exit = await intake.exitWithin(5_000);
    expect(exit, intake.describe()).toEqual({ code: 130, signal: null });
    expect(Date.now() - forcedAt).toBeLessThan(3_000);
    expect(lines().map((line) => line.msg)).toContain('second SIGINT: giving 1 job in flight back to the queue (at most 2 s), then exiting');
    // Back in the queue now, not when the 120 s lease runs out.
    expect(readJobs(dataDir)).toEqual([expect.objectContaining({ state: 'ready', attempts: 0 })]);
  });
});
