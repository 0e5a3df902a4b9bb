import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/telemetry/logger.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { captureLogs, searchableText, type CapturedLogs } from '../support/log-capture.js';
import { exchange, listenOnLoopback } from '../support/raw-http.js';

/**
 * Requests that Node's HTTP parser refuses, sent with a bearer token and a password, at
 * LOG_LEVEL=trace: the parser's error carries the raw request, and none of it may reach the log,
 * not even as a byte array.
 */

const PASSWORD = 'trace-level-password-77';
let logs: CapturedLogs;
let t: TestApp;
let port: number;
let token: string;

beforeAll(async () => {
  logs = captureLogs();
  t = await createTestApp({ logger: createLogger({ level: 'trace', role: 'api', destination: logs.destination }) });
  token = (await t.user('trace')).token;
  port = (await listenOnLoopback(t.app)).port;
});
afterAll(() => t.close());

function rawLogin(extraHeader: string): string {
  const body = JSON.stringify({ email: 'trace@example.test', password: PASSWORD });
  return [
    'POST /api/login HTTP/1.1',
    'Host: 127.0.0.1',
    `Authorization: Bearer ${token}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    extraHeader,
    '',
    body,
  ].join('\r\n');
}

describe('secrets in trace logs', () => {
  it('answers 400 to a header with a control character, 431 to a 100 KB header, and logs neither request', async () => {
    const control = await exchange(port, rawLogin('X-Note: a\u0001b'));
    expect(control).toMatch(/^HTTP\/1\.1 400 /);
    const huge = await exchange(port, rawLogin(`X-Padding: ${'p'.repeat(100_000)}`));
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);

    const records = logs.records();
    expect(records.some((r) => r.msg === 'client error')).toBe(true);
    const text = searchableText(logs.lines);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(token.split('|')[1]);
    expect(text).not.toContain('rawPacket');
  });
});
