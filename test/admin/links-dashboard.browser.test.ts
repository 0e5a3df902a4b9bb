import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertUser } from '../../src/auth/users.repository.js';
import { PermanentError } from '../../src/platform/queue/queue.js';
import { describeWithChromium } from '../support/browser.js';
import { openDashboard, type DashboardSession } from '../support/dashboard-session.js';
import { waitFor } from '../support/driver-wait.js';
import { createOrderAsApi } from '../support/orders.js';

const QUEUE = 'orders.integration';

describeWithChromium('operator dashboard: from an order item to its job, and from a job to its order', (executablePath) => {
  let s: DashboardSession;
  const itemIds: number[] = [];

  beforeAll(async () => {
    s = await openDashboard(executablePath, {
      hash: 'orders',
      ready: 'tbody',
      // Two orders of one recurring item each; the first item's job is parked (its third party refused it), the second's waits.
      seed: async ({ database, orders, queue }) => {
        const now = Date.now();
        const user = await insertUser(database.db, { name: 'Grace', email: 'grace@example.test', password_hash: 'x', created_at: now, updated_at: now });
        for (const label of ['Parked plan', 'Waiting plan']) {
          const created = await createOrderAsApi(orders, { principal: { userId: user.id, tokenId: 0, abilities: ['orders'] }, body: { client: { identity: label, contact_point: 'ops@example.test' }, contents: [{ label, kind: 'recurring', cost: 5 }] } });
          itemIds.push((JSON.parse(created.body) as { order: { contents: Array<{ id: number }> } }).order.contents[0]!.id);
        }
        const worker = queue.work(QUEUE, async (payload) => {
          if ((payload as { itemId: number }).itemId === itemIds[0]) throw new PermanentError('third party answered 422');
          await new Promise(() => undefined);
        }, { concurrency: 1 });
        await waitFor(async () => (await queue.stats(QUEUE)).counts.parked === 1, 10_000, 'the first item parked');
        await worker.stop(0);
      },
    });
  });
  afterAll(() => s?.close());

  it("goes from an item to its job, and from the job back to the item's order", async () => {
    const { page } = s;
    await page.click(`li[data-item="${itemIds[1]}"] a.job-link`);
    await page.locator('#search-total', { hasText: '1 found' }).waitFor();
    expect(await page.locator('#job-search input[name=payload_value]').inputValue()).toBe(String(itemIds[1]));
    expect(await page.locator('tbody tr td pre').textContent()).toContain(`"itemId": ${itemIds[1]}`);
    await page.click('tbody tr a.order-link');
    await page.locator('#orders-filter').waitFor();
    expect(await page.locator('#orders-filter').textContent()).toContain(`The order holding item ${itemIds[1]}.`);
    expect(await page.locator(`tr[data-order] li[data-item]`).evaluateAll((lis) => lis.map((li) => li.getAttribute('data-item')))).toEqual([String(itemIds[1])]);
  });

  it('goes from a parked job to its order', async () => {
    const { page } = s;
    await page.goto(page.url().replace(/#.*$/, '#parked'));
    await page.locator('tbody tr a.order-link').click();
    await page.locator('#orders-filter').waitFor();
    expect(await page.locator(`tr[data-order] li[data-item]`).evaluateAll((lis) => lis.map((li) => li.getAttribute('data-item')))).toEqual([String(itemIds[0])]);
    await s.shoot('dashboard-order-of-a-parked-job');
    expect(s.consoleErrors).toEqual([]);
  });
});
