import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiApp } from '../../src/app/api-app.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { findDestination, openCircuit, pauseUntil } from '../../src/platform/outbound/destinations.repository.js';
import { testConfig } from '../support/app.js';
import { describeWithChromium, launchChromium, SCREENSHOT_DIR } from '../support/browser.js';
import { waitFor } from '../support/driver-wait.js';
import { seedUser } from '../webhooks/operator-fixtures.js';

describeWithChromium('operator dashboard: circuits page in Chromium', (executablePath) => {
  let container: Container;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    container = await createContainer(await testConfig(), { logger: pino({ level: 'silent' }) });
    app = await buildApiApp(container);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const db = container.database.db;
    const now = Date.now();
    const operator = await seedUser(db, 'Operator', now);
    await openCircuit(db, 'third-party', 60_000, 'third party unreachable: connect ECONNREFUSED 127.0.0.1:8090', now);
    await pauseUntil(db, 'webhook:12', now + 120_000, now);

    browser = await launchChromium(executablePath);
    page = await browser.newPage({ viewport: { width: 1280, height: 700 }, timezoneId: 'UTC' });
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    await page.goto(`${baseUrl}/admin#circuits`);
    await page.fill('#token', await container.auth.createToken(operator.id, 'dashboard', ['admin']));
    await page.click('#login-form button[type=submit]');
    await page.locator('#circuits-summary').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await container?.close();
  });

  const shoot = (name: string) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });

  it('shows the open circuit first, with its last failure, and the paused endpoint', async () => {
    expect(await page.locator('#nav a.active').textContent()).toBe('Circuits');
    expect(await page.locator('#circuits-summary').textContent()).toContain('1 circuit(s) open');
    const rows = await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-destination'), tr.getAttribute('data-state')]));
    expect(rows).toEqual([
      ['third-party', 'open'],
      ['webhook:12', 'closed'],
    ]);
    expect(await page.locator('tr[data-destination="third-party"] .error-text').textContent()).toContain('ECONNREFUSED');
    await shoot('dashboard-circuits-open');
  });

  it('forces a circuit closed behind the confirmation, and gives it back', async () => {
    await page.click('tr[data-destination="third-party"] button[data-force="closed"]');
    await page.click('#confirm-ok');
    await page.locator('tr[data-destination="third-party"][data-state="closed"]').waitFor();
    await waitFor(async () => (await findDestination(container.database.db, 'third-party'))?.forced === 'closed', 5_000, 'the circuit forced closed');
    expect(await page.locator('#flash').textContent()).toBe('third-party: closed (forced closed)');
    await page.click('tr[data-destination="third-party"] button[data-force="auto"]');
    await page.click('#confirm-ok');
    await waitFor(async () => (await findDestination(container.database.db, 'third-party'))?.forced === null, 5_000, 'the circuit given back');
    expect(consoleErrors).toEqual([]);
  });
});
