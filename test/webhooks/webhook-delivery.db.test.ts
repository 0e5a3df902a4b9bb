import { afterEach, describe, expect, it } from 'vitest';
import { findDestination, forceCircuit } from '../../src/platform/outbound/destinations.repository.js';
import { sleep, waitFor } from '../support/driver-wait.js';
import { testDialect } from '../support/driver-databases.js';
import { describeWithServices } from '../support/services.js';
import { newSecret, startDeliveryHarness, type DeliveryHarness, type QueueDriverName } from './delivery-harness.js';
import { verifyStandardWebhook } from './standard-webhooks.js';
import { startReceiver, type Receiver, type Reply } from './webhook-receiver.js';

const HOUR_MS = 3_600_000;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const ITEM = { id: 7, order_id: 3, label: 'Monthly box', status: 'completed', note: 'ünïcödé ✓' };

function deliverySuite(driver: QueueDriverName): void {
  let harness: DeliveryHarness | undefined;
  const receivers: Receiver[] = [];
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  async function setup(env: Record<string, string> = {}, resolve?: Parameters<typeof startDeliveryHarness>[0]['resolve']) {
    harness = await startDeliveryHarness({ driver, env, resolve });
    return harness;
  }
  async function receiver(reply?: (index: number) => Reply) {
    const r = await startReceiver(reply && ((_arrival, index) => reply(index)));
    receivers.push(r);
    return r;
  }
  const finished = async (h: DeliveryHarness, endpointId: number, count = 1) => {
    await waitFor(async () => (await h.deliveries(endpointId)).filter((d) => d.status !== 'pending').length >= count, 10_000, `${count} finished deliveries`);
    return h.deliveries(endpointId);
  };

  it('POSTs the stored body, signed as Standard Webhooks specifies, with content-type, user-agent and traceparent', async () => {
    const h = await setup();
    const r = await receiver(() => ({ status: 204 }));
    const { id, secret } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM, traceparent: TRACEPARENT });
    h.start();
    const [delivery] = await finished(h, id);
    expect(r.arrivals).toHaveLength(1);
    const [arrival] = r.arrivals;
    const stored = await h.container.database.db.selectFrom('webhook_events').select('body').where('id', '=', delivery!.event_id).executeTakeFirstOrThrow();
    expect(arrival!.body).toBe(stored.body);
    expect(JSON.parse(arrival!.body)).toEqual({ type: 'order.item.completed', timestamp: expect.any(String), data: ITEM });
    expect(verifyStandardWebhook(secret, arrival!.headers, arrival!.body, h.clock.now())).toBe(true);
    expect(verifyStandardWebhook(newSecret(), arrival!.headers, arrival!.body, h.clock.now())).toBe(false);
    expect(verifyStandardWebhook(secret, arrival!.headers, `${arrival!.body} `, h.clock.now())).toBe(false);
    expect(arrival!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'intake-webhooks/9.9.9-test',
      'webhook-id': delivery!.message_id,
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      traceparent: TRACEPARENT,
    });
    expect(String(arrival!.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 204, last_error: null, next_attempt_at: null, finished_at: expect.any(Number) });
    expect(delivery!.last_duration_ms).toBeGreaterThanOrEqual(0);
    expect(await h.endpointRow(id)).toMatchObject({ enabled: 1, failing_since: null, last_success_at: expect.any(Number) });
  });

  it('delivers again after two 503s, under the same webhook-id, honouring Retry-After, and records the pending attempts', async () => {
    // A Retry-After is capped at the schedule's longest wait.
    const h = await setup({ WEBHOOK_RETRY_SCHEDULE_MS: '50,50,5000' });
    const r = await receiver((i) => (i === 0 ? { status: 503 } : i === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    const { id, secret } = await h.endpoint(r.url);
    await h.publish({ type: 'order.completed', data: { id: 3 } });
    h.start();
    await waitFor(() => r.arrivals.length === 2, 10_000, 'the second attempt');
    await waitFor(async () => (await h.deliveries(id))[0]!.attempts === 2, 5_000, 'the second attempt to be recorded');
    const [pending] = await h.deliveries(id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 2, last_status_code: 503, last_error: 'endpoint answered 503', finished_at: null });
    expect(pending!.next_attempt_at! - pending!.updated_at).toBeGreaterThanOrEqual(1_000);
    expect((await h.endpointRow(id)).failing_since).toEqual(expect.any(Number));

    const [delivery] = await finished(h, id);
    expect(r.arrivals).toHaveLength(3);
    expect(new Set(r.arrivals.map((a) => a.headers['webhook-id']))).toEqual(new Set([delivery!.message_id]));
    expect(r.arrivals.every((a) => verifyStandardWebhook(secret, a.headers, a.body, h.clock.now()))).toBe(true);
    expect(r.arrivals[2]!.at - r.arrivals[1]!.at).toBeGreaterThanOrEqual(950);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 3, last_status_code: 200 });
    expect(await h.endpointRow(id)).toMatchObject({ failing_since: null, last_success_at: expect.any(Number) });
  });

  it("holds an endpoint's deliveries while its circuit is open, spending no attempt, and delivers them once it answers", async () => {
    // Three attempts 50 ms apart: without the circuit, 1.5 s of 503s would fail every delivery.
    const h = await setup({ WEBHOOK_RETRY_SCHEDULE_MS: '50,50', CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_COOLDOWN_MS: '200', CIRCUIT_MAX_COOLDOWN_MS: '400' });
    let down = true;
    const r = await receiver(() => (down ? { status: 503 } : { status: 200 }));
    const { id } = await h.endpoint(r.url);
    for (let i = 0; i < 6; i++) await h.publish({ type: 'order.completed', data: { id: i } });
    h.start();
    await waitFor(async () => (await findDestination(h.container.database.db, `webhook:${id}`))?.opened_at != null, 10_000, 'the circuit to open');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const duringOutage = r.arrivals.length;
    down = false;
    const deliveries = await finished(h, id, 6);
    expect(deliveries.map((d) => d.status)).toEqual(Array(6).fill('succeeded'));
    // Three failures opened it; then a probe per cool-down of 200-400 ms, not every delivery's retries.
    expect(duringOutage).toBeLessThanOrEqual(3 + 2 + 8);
    expect(Math.max(...deliveries.map((d) => d.attempts))).toBeLessThanOrEqual(3);
  });

  it('fails a delivery held past its retry schedule as expired, never sending it late', async () => {
    const h = await setup({ WEBHOOK_RETRY_SCHEDULE_MS: '50' });
    const r = await receiver(() => ({ status: 200 }));
    const { id } = await h.endpoint(r.url);
    await forceCircuit(h.container.database.db, `webhook:${id}`, 'open', h.clock.now());
    await h.publish({ type: 'order.completed', data: { id: 1 } });
    h.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.arrivals).toHaveLength(0);
    // The schedule (50 ms), two attempts' timeouts and an hour: a day later the delivery has expired.
    h.clock.advance(24 * HOUR_MS);
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed' });
    expect(delivery!.last_error).toMatch(/^expired: not started before its deadline/);
    expect(r.arrivals).toHaveLength(0);
  });

  it("pauses an endpoint that answers 429 with Retry-After, for every delivery", async () => {
    const h = await setup({ WEBHOOK_RETRY_SCHEDULE_MS: '50' });
    const r = await receiver((i) => (i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    const { id } = await h.endpoint(r.url);
    for (let i = 0; i < 4; i++) await h.publish({ type: 'order.completed', data: { id: i } });
    h.start();
    await waitFor(() => r.arrivals.length > 0, 10_000, 'the first delivery');
    const throttledAt = r.arrivals[0]!.at;
    // Published once the 429 was answered and its pause recorded: they wait for the Retry-After too.
    await sleep(500);
    for (let i = 4; i < 6; i++) await h.publish({ type: 'order.completed', data: { id: i } });
    const deliveries = await finished(h, id, 6);
    expect(deliveries.map((d) => d.status)).toEqual(Array(6).fill('succeeded'));
    const late = r.arrivals.filter((a) => [4, 5].includes((JSON.parse(a.body) as { data: { id: number } }).data.id));
    expect(late).toHaveLength(2);
    for (const arrival of late) expect(arrival.at - throttledAt).toBeGreaterThanOrEqual(950);
    // The others were sent at once (in flight when the 429 came, however late a loaded machine delivers them) or after the pause.
    expect(r.arrivals.slice(1).every((a) => a.at - throttledAt >= 950 || a.at - throttledAt < 300)).toBe(true);
  });

  it('fails the delivery on its last attempt, recorded in the delivery log and not parked', async () => {
    const h = await setup();
    const r = await receiver(() => ({ status: 500 }));
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.failed', data: ITEM });
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 4, last_status_code: 500, last_error: 'endpoint answered 500', next_attempt_at: null });
    expect(r.arrivals).toHaveLength(4);
    await waitFor(async () => Object.values((await h.container.queue.stats('webhooks.delivery')).counts).every((n) => n === 0), 5_000, 'the job to complete');
  });

  it('disables the endpoint at once on a 410, and fails its other deliveries unsent', async () => {
    const h = await setup();
    const r = await receiver(() => ({ status: 410 }));
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    expect(await h.endpointRow(id)).toMatchObject({ enabled: 0, disabled_reason: 'the endpoint answered 410 Gone', disabled_at: expect.any(Number) });
    expect(r.arrivals).toHaveLength(1);
  });

  it('fails a delivery whose endpoint was disabled after the event, without a request', async () => {
    const h = await setup();
    const r = await receiver();
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    await h.container.database.db.updateTable('webhook_endpoints').set({ enabled: 0, disabled_reason: 'disabled by its owner' }).where('id', '=', id).execute();
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed', last_error: 'endpoint disabled: disabled by its owner' });
    expect(r.arrivals).toHaveLength(0);
  });

  it('completes quietly when the endpoint was deleted after the event', async () => {
    const h = await setup();
    const r = await receiver();
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    await h.container.database.db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
    h.start();
    await waitFor(async () => Object.values((await h.container.queue.stats('webhooks.delivery')).counts).every((n) => n === 0), 10_000, 'the job to complete');
    expect(r.arrivals).toHaveLength(0);
    expect((await h.container.queue.stats('webhooks.delivery')).counts.parked).toBe(0);
  });

  it.each([400, 404, 422])('fails at once, after one attempt, on a %i', async (status) => {
    const h = await setup();
    const r = await receiver(() => ({ status }));
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, last_status_code: status, last_error: `endpoint answered ${status}` });
    expect(r.arrivals).toHaveLength(1);
    expect(await h.endpointRow(id)).toMatchObject({ enabled: 1, failing_since: expect.any(Number) });
  });

  it('does not follow a redirect, to a private address or any other: a failed attempt naming the Location', async () => {
    const h = await setup();
    const target = await receiver();
    const r = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 302 });
    expect(delivery!.last_error).toContain(target.url);
    expect(r.arrivals).toHaveLength(1);
    expect(target.arrivals).toHaveLength(0);
  });

  it('refuses at delivery a host that now resolves to a private address, and a private IP, when private hosts are not allowed', async () => {
    const r = await receiver();
    const resolved: string[] = [];
    const h = await setup({ WEBHOOK_ALLOW_PRIVATE_HOSTS: 'false' }, (hostname, _options, callback) => {
      resolved.push(hostname);
      callback(null, [{ address: '127.0.0.1', family: 4 }]);
    });
    const byName = await h.endpoint(`http://hooks.customer.test:${r.port}/hooks`);
    const byAddress = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    const [named] = await finished(h, byName.id);
    const [literal] = await finished(h, byAddress.id);
    expect(named).toMatchObject({ status: 'failed', attempts: 1, last_status_code: null });
    expect(named!.last_error).toMatch(/refused: host hooks\.customer\.test resolves to 127\.0\.0\.1/);
    expect(literal).toMatchObject({ status: 'failed', attempts: 1, last_error: 'refused: address 127.0.0.1 is not public' });
    expect(resolved).toContain('hooks.customer.test');
    expect(r.arrivals).toHaveLength(0);
  });

  it('refuses an http:// endpoint when only https is allowed', async () => {
    const h = await setup({ WEBHOOK_ALLOW_HTTP: 'false' });
    const r = await receiver();
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery!.last_error).toMatch(/^refused: http:\/\/ endpoints are not allowed/);
    expect(r.arrivals).toHaveLength(0);
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    const h = await setup({ WEBHOOK_TIMEOUT_MS: '300' });
    const r = await receiver((i) => (i === 0 ? 'hang' : { status: 200 }));
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    const [delivery] = await finished(h, id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(r.arrivals).toHaveLength(2);
    expect(r.arrivals[0]!.headers['webhook-id']).toBe(r.arrivals[1]!.headers['webhook-id']);
  });

  it('does not let a receiver that never answers delay another endpoint: it holds only its own slots', async () => {
    const h = await setup({ WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_CONCURRENCY: '4', WEBHOOK_ENDPOINT_CONCURRENCY: '2' });
    const dead = await receiver(() => 'hang');
    const live = await receiver(() => ({ status: 200 }));
    const deadEndpoint = await h.endpoint(dead.url, { events: ['order.item.completed'] });
    const liveEndpoint = await h.endpoint(live.url, { events: ['order.item.failed'] });
    await h.publish(...Array.from({ length: 10 }, () => ({ type: 'order.item.completed' as const, data: ITEM })));
    await h.publish(...Array.from({ length: 20 }, () => ({ type: 'order.item.failed' as const, data: ITEM })));
    h.start();
    await waitFor(() => dead.arrivals.length > 0, 5_000, 'the dead endpoint to be called');
    const firstDeadCall = dead.arrivals[0]!.at;
    await waitFor(() => live.arrivals.length === 20, 10_000, "the live endpoint's 20 deliveries");
    // All of them before the dead endpoint's first request could even time out (with a margin for a busy machine).
    expect(live.arrivals.at(-1)!.at - firstDeadCall).toBeLessThan(4_000);
    expect((await h.deliveries(deadEndpoint.id)).every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
    expect(dead.maxOpen()).toBeLessThanOrEqual(2);
    await waitFor(async () => (await h.deliveries(liveEndpoint.id)).every((d) => d.status === 'succeeded'), 5_000, 'the 20 deliveries to be recorded');
    // A handler counts its success once the batch holding its write has committed: a moment after the row shows it.
    await waitFor(async () => /webhook_deliveries_total\{outcome="succeeded"[^}]*\} 20/.test(await h.container.metrics.text()), 5_000, '20 successes counted');
    expect(await h.container.metrics.text()).toMatch(/webhook_deliveries_total\{outcome="deferred"[^}]*\} [1-9]/);
  });

  it('signs with both secrets during a rotation overlap, and with the new one alone after it', async () => {
    const h = await setup();
    const r = await receiver();
    const oldSecret = newSecret();
    const { id, secret } = await h.endpoint(r.url, { previousSecret: oldSecret, previousSecretUntil: h.clock.now() + 24 * HOUR_MS });
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    await finished(h, id);
    const [during] = r.arrivals;
    expect(String(during!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifyStandardWebhook(secret, during!.headers, during!.body, h.clock.now())).toBe(true);
    expect(verifyStandardWebhook(oldSecret, during!.headers, during!.body, h.clock.now())).toBe(true);

    h.clock.advance(25 * HOUR_MS);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    await finished(h, id, 2);
    const after = r.arrivals[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(verifyStandardWebhook(secret, after.headers, after.body, h.clock.now())).toBe(true);
    expect(verifyStandardWebhook(oldSecret, after.headers, after.body, h.clock.now())).toBe(false);
  });

  it('disables an endpoint whose deliveries have all failed for WEBHOOK_DISABLE_AFTER_HOURS, saying why', async () => {
    const h = await setup({ WEBHOOK_DISABLE_AFTER_HOURS: '72' });
    const r = await receiver(() => ({ status: 503 }));
    const { id } = await h.endpoint(r.url);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    h.start();
    await finished(h, id);
    const failing = await h.endpointRow(id);
    expect(failing).toMatchObject({ enabled: 1, failing_since: expect.any(Number) });

    h.clock.advance(71 * HOUR_MS);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    await finished(h, id, 2);
    expect(await h.endpointRow(id)).toMatchObject({ enabled: 1, failing_since: failing.failing_since });

    h.clock.advance(HOUR_MS);
    await h.publish({ type: 'order.item.completed', data: ITEM });
    await finished(h, id, 3);
    const third = (await h.deliveries(id))[2]!;
    expect(third).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 503 });
    expect(await h.endpointRow(id)).toMatchObject({ enabled: 0, disabled_reason: 'every delivery has failed for 72 hours', disabled_at: expect.any(Number) });
    expect(r.arrivals).toHaveLength(9);
  });
}

describe('webhook delivery on the database queue', () => deliverySuite('database'));

// The broker's side of delivery does not change with the engine: it runs once, on the SQLite run,
// while the database queue runs on all three (the outbox itself has its contract suite on each).
if (testDialect() === 'sqlite') {
  await describeWithServices(['rabbitmq'], 'webhook delivery on the amqp queue (behind the outbox)', () => deliverySuite('amqp'));
}
