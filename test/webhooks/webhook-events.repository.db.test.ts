import fs from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../../src/app/container.js';
import { insertUser } from '../../src/auth/users.repository.js';
import type { Config } from '../../src/config.js';
import { insertEndpoint } from '../../src/webhooks/webhook-endpoints.repository.js';
import { insertEventsAndFindEndpoints } from '../../src/webhooks/webhook-events.repository.js';
import { testConfig } from '../support/app.js';

let container: Container | undefined;
let config: Config | undefined;
afterEach(async () => {
  await container?.close();
  if (config) fs.rmSync(config.dataDir, { recursive: true, force: true });
  container = undefined;
  config = undefined;
});

const endpointRow = (userId: number, url: string, enabled: number) => ({
  user_id: userId,
  url,
  description: null,
  events: JSON.stringify(['order.completed']),
  secret: 'whsec_c2VjcmV0',
  previous_secret: null,
  previous_secret_until: null,
  enabled,
  disabled_reason: enabled ? null : 'test',
  disabled_at: enabled ? null : 1,
  failing_since: null,
  last_success_at: null,
  created_at: 1,
  updated_at: 1,
});

describe('insertEventsAndFindEndpoints (one statement on PostgreSQL, two elsewhere)', () => {
  it('stores every event and returns the enabled endpoints of their users only', async () => {
    config = await testConfig();
    container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    const db = container.database.db;
    const user = (email: string) => insertUser(db, { name: 'u', email, password_hash: 'x', created_at: 0, updated_at: 0 });
    const [alice, bob, carol] = [await user('a@example.test'), await user('b@example.test'), await user('c@example.test')];
    const aliceOn = await insertEndpoint(db, endpointRow(alice.id, 'https://a.example.test/hook', 1));
    await insertEndpoint(db, endpointRow(alice.id, 'https://a.example.test/off', 0));
    const bobOn = await insertEndpoint(db, endpointRow(bob.id, 'https://b.example.test/hook', 1));
    await insertEndpoint(db, endpointRow(carol.id, 'https://c.example.test/hook', 1));
    const rows = [alice.id, bob.id, alice.id].map((userId, i) => ({ id: `evt_test${i}`, user_id: userId, type: 'order.completed', body: JSON.stringify({ n: i, text: `quote " and \\ backslash ${i}` }), created_at: 5 }));

    const endpoints = await container.database.transaction((trx) => insertEventsAndFindEndpoints(trx, rows));

    expect(endpoints.map((e) => [Number(e.id), Number(e.user_id), JSON.parse(e.events)]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual([
      [aliceOn.id, alice.id, ['order.completed']],
      [bobOn.id, bob.id, ['order.completed']],
    ]);
    const stored = await db.selectFrom('webhook_events' as never).select(['id', 'user_id', 'body'] as never[]).orderBy('id' as never).execute();
    expect((stored as Array<{ id: string; user_id: number; body: string }>).map((row) => [row.id, Number(row.user_id), row.body])).toEqual(rows.map((row) => [row.id, row.user_id, row.body]));
  });

  it('stores the events of a user without endpoints and returns none', async () => {
    config = await testConfig();
    container = await createContainer(config, { logger: pino({ level: 'silent' }) });
    const db = container.database.db;
    const dave = await insertUser(db, { name: 'u', email: 'd@example.test', password_hash: 'x', created_at: 0, updated_at: 0 });
    const endpoints = await container.database.transaction((trx) => insertEventsAndFindEndpoints(trx, [{ id: 'evt_lone', user_id: dave.id, type: 'order.item.completed', body: '{}', created_at: 7 }]));
    expect(endpoints).toEqual([]);
    const stored = await db.selectFrom('webhook_events' as never).select(['id'] as never[]).execute();
    expect(stored).toEqual([{ id: 'evt_lone' }]);
  });
});
