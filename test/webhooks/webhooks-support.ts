import type { LookupAddress } from 'node:dns';
import type { LightMyRequestResponse } from 'fastify';
import type { LookupFunction } from '../../src/platform/net/ssrf.js';
import type { TestApp, TestUser } from '../support/app.js';

export const PUBLIC_ADDRESS = '93.184.215.14';

/** Names the tests use, and what they resolve to; any other name does not resolve. No lookup reaches the network. */
const ZONE: Record<string, string[]> = {
  'hooks.example.com': [PUBLIC_ADDRESS],
  'other.example.com': [PUBLIC_ADDRESS, '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'internal.example': ['127.0.0.1'],
  'mixed.example': [PUBLIC_ADDRESS, '10.0.0.7'],
};

export const fakeDns: LookupFunction = (hostname, _options, callback) => {
  const addresses = ZONE[hostname.toLowerCase()];
  if (!addresses) {
    callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    return;
  }
  callback(null, addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
};

export interface EndpointView {
  id: number;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

export const ENDPOINT_KEYS = ['created_at', 'description', 'disabled_at', 'disabled_reason', 'enabled', 'events', 'id', 'updated_at', 'url'];

export function endpointBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { url: 'https://hooks.example.com/intake', events: ['order.completed'], ...overrides };
}

export function postEndpoint(t: TestApp, user: TestUser, body: unknown = endpointBody()): Promise<LightMyRequestResponse> {
  return t.inject({ method: 'POST', url: '/api/webhooks', headers: user.auth, payload: body as string });
}

/** Creates an endpoint and returns it with its secret; fails the test unless the answer is 201. */
export async function createEndpoint(t: TestApp, user: TestUser, body: unknown = endpointBody()): Promise<{ webhook: EndpointView; secret: string }> {
  const res = await postEndpoint(t, user, body);
  if (res.statusCode !== 201) throw new Error(`expected 201, got ${res.statusCode}: ${res.body}`);
  return res.json();
}

/** Every route that names one endpoint (and, for a retry, one of its deliveries), for tests that walk them all. */
export function endpointRoutes(id: string, deliveryId: string) {
  return [
    ['GET', `/api/webhooks/${id}`],
    ['PATCH', `/api/webhooks/${id}`],
    ['DELETE', `/api/webhooks/${id}`],
    ['POST', `/api/webhooks/${id}/rotate-secret`],
    ['GET', `/api/webhooks/${id}/deliveries`],
    ['POST', `/api/webhooks/${id}/deliveries/${deliveryId}/retry`],
  ] as const;
}
