import { afterAll, beforeAll, expect, it } from 'vitest';
import { findDestination, openCircuit, pauseUntil } from '../../src/platform/outbound/destinations.repository.js';
import { describeWithChromium } from '../support/browser.js';
import { openDashboard, type DashboardSession } from '../support/dashboard-session.js';
import { waitFor } from '../support/driver-wait.js';

describeWithChromium('operator dashboard: circuits page in Chromium', (executablePath) => {
  let s: DashboardSession;

  beforeAll(async () => {
    s = await openDashboard(executablePath, {
      hash: 'circuits',
      ready: '#circuits-summary',
      viewport: { width: 1280, height: 700 },
      seed: async ({ database }) => {
        const now = Date.now();
        await openCircuit(database.db, 'third-party', 60_000, 'third party unreachable: connect ECONNREFUSED 127.0.0.1:8090', now);
        await pauseUntil(database.db, 'webhook:12', now + 120_000, now);
      },
    });
  });
  afterAll(() => s?.close());

  it('shows the open circuit first, with its last failure, and the paused endpoint', async () => {
    const { page } = s;
    expect(await page.locator('#nav a.active').textContent()).toBe('Circuits');
    expect(await page.locator('#circuits-summary').textContent()).toContain('1 circuit(s) open');
    const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-destination'), tr.getAttribute('data-state')]));
    expect(rows).toEqual([
      ['third-party', 'open'],
      ['webhook:12', 'closed'],
    ]);
    expect(await page.locator('tr[data-destination="third-party"] .error-text').textContent()).toContain('ECONNREFUSED');
    await s.shoot('dashboard-circuits-open');
  });

  it('forces a circuit closed behind the confirmation, and gives it back', async () => {
    const { page, container } = s;
    await page.click('tr[data-destination="third-party"] button[data-force="closed"]');
    await page.click('#confirm-ok');
    await page.locator('tr[data-destination="third-party"][data-state="closed"]').waitFor();
    await waitFor(async () => (await findDestination(container.database.db, 'third-party'))?.forced === 'closed', 5_000, 'the circuit forced closed');
    expect(await page.locator('#flash').textContent()).toBe('third-party: closed (forced closed)');
    await page.click('tr[data-destination="third-party"] button[data-force="auto"]');
    await page.click('#confirm-ok');
    await waitFor(async () => (await findDestination(container.database.db, 'third-party'))?.forced === null, 5_000, 'the circuit given back');
    expect(s.consoleErrors).toEqual([]);
  });

  it('tells on the Queues page why the queue of the third party claims nothing while its circuit is open', async () => {
    const { page, container } = s;
    await openCircuit(container.database.db, 'third-party', 60_000, 'third party unreachable: connect ECONNREFUSED 127.0.0.1:8090', Date.now());
    await page.goto(page.url().replace('#circuits', '#queues'));
    const held = page.locator('section[data-queue="orders.integration"][data-held="true"] .held');
    await held.waitFor();
    expect(await held.getAttribute('data-held-reason')).toBe('circuit_open');
    expect(await held.textContent()).toContain('Held: third-party — its circuit is open — until');
    expect(await page.locator('section[data-queue="webhooks.delivery"]').getAttribute('data-held')).toBe('false');
    await s.shoot('dashboard-queue-held');
    await held.locator('a[href="#circuits"]').click();
    await page.locator('#circuits-summary').waitFor();
    expect(s.consoleErrors).toEqual([]);
  });
});
