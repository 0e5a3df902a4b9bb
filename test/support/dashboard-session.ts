import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { buildApiApp } from '../../src/app/api-app.js';
import { createContainer, type Container } from '../../src/app/container.js';
import { seedUser } from '../webhooks/operator-fixtures.js';
import { testConfig } from './app.js';
import { launchChromium, SCREENSHOT_DIR } from './browser.js';

export interface DashboardSession {
  container: Container;
  page: Page;
  /** The browser console's errors so far: a page that works writes none. */
  consoleErrors: string[];
  /** A full-page screenshot in SCREENSHOT_DIR, as `<name>.png`. */
  shoot(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface DashboardOptions {
  env?: Record<string, string>;
  /** What the page is to show, written before the browser opens it. */
  seed?: (container: Container) => Promise<void>;
  /** The page, as the dashboard's hash (`circuits`). */
  hash: string;
  /** A selector that is on the page once it has rendered. */
  ready: string;
  viewport?: { width: number; height: number };
}

/** The API app on a fresh database, and Debian's chromium signed in to the dashboard as an operator, on `hash`. */
export async function openDashboard(executablePath: string, o: DashboardOptions): Promise<DashboardSession> {
  const container = await createContainer(await testConfig(o.env), { logger: pino({ level: 'silent' }) });
  let app: FastifyInstance | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await app?.close();
    await container.close();
  };
  try {
    app = await buildApiApp(container);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const operator = await seedUser(container.database.db, 'Operator', Date.now());
    await o.seed?.(container);
    browser = await launchChromium(executablePath);
    const page = await browser.newPage({ viewport: o.viewport ?? { width: 1280, height: 800 }, timezoneId: 'UTC' });
    const consoleErrors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/admin#${o.hash}`);
    await page.fill('#token', await container.auth.createToken(operator.id, 'dashboard', ['admin']));
    await page.click('#login-form button[type=submit]');
    await page.locator(o.ready).waitFor();
    const shoot = async (name: string) => void (await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true }));
    return { container, page, consoleErrors, shoot, close };
  } catch (error) {
    await close();
    throw error;
  }
}
