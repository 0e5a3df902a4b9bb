/** Light API load for the feed benchmark: autocannon until told to stop, on a catalog read and on order intake. */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';

/** One single and one recurring item, as the orders bench sends. */
export const ORDER_BODY = JSON.stringify({
  client: { identity: 'Bench Client Ltd', contact_point: 'orders@bench.example' },
  contents: [
    { label: 'Starter kit', kind: 'single', cost: 49.9, meta: { priority: 'high', sku: 'KIT-1' } },
    { label: 'Monthly refill', kind: 'recurring', cost: 12.5, meta: { priority: 'normal', frequency: 'monthly' } },
  ],
});

export interface LoadResult {
  endpoint: string;
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  responses2xx: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
}

export interface RunningLoad {
  /** Stops the load and resolves with its numbers. */
  stop(): Promise<LoadResult>;
}

/** Registers a user and returns its bearer token. */
export async function registerUser(baseUrl: string): Promise<string> {
  const password = 'bench password 123';
  const response = await fetch(`${baseUrl}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Bench', email: `bench-${randomUUID()}@bench.example`, password, password_confirmation: password }),
  });
  const body = (await response.json()) as { token?: string };
  if (response.status !== 201 || !body.token) throw new Error(`POST /api/register answered ${response.status}: ${JSON.stringify(body)}`);
  return body.token;
}

/** One request per endpoint before the load, so that a broken setup fails loudly. */
export async function sanityCheck(baseUrl: string, token: string): Promise<void> {
  const list = await fetch(`${baseUrl}/api/v1/pornstars`);
  const listText = await list.text();
  if (list.status !== 200) throw new Error(`GET /api/v1/pornstars answered ${list.status}: ${listText.slice(0, 500)}`);
  const order = await fetch(`${baseUrl}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
    body: ORDER_BODY,
  });
  const orderText = await order.text();
  if (order.status !== 201) throw new Error(`POST /api/orders answered ${order.status}: ${orderText.slice(0, 500)}`);
}

function startLoad(endpoint: string, connections: number, options: autocannon.Options): RunningLoad {
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    // A duration far beyond any ingestion: stop() ends it.
    instance = autocannon({ ...options, connections, duration: 3_600, timeout: 10 }, (error, result) => (error ? reject(error as Error) : resolve(result)));
  });
  return {
    async stop() {
      instance?.stop();
      return loadResultOf(endpoint, connections, await done);
    },
  };
}

/** What one autocannon run measured, as the benchmarks report it. */
export function loadResultOf(endpoint: string, connections: number, result: autocannon.Result): LoadResult {
  return {
    endpoint,
    connections,
    durationS: result.duration,
    requests: result.requests.total,
    requestsPerSecond: result.duration > 0 ? result.requests.total / result.duration : 0,
    latencyMs: { mean: result.latency.mean, p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    responses2xx: result['2xx'],
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0])),
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** `GET /api/v1/pornstars` (the first page, public). */
export function loadCatalogList(baseUrl: string, connections: number): RunningLoad {
  return startLoad('GET /api/v1/pornstars', connections, { url: `${baseUrl}/api/v1/pornstars`, method: 'GET', headers: { accept: 'application/json' } });
}

/** `POST /api/orders` with a fresh Idempotency-Key per request: every request stores a new order. */
export function loadOrders(baseUrl: string, token: string, connections: number): RunningLoad {
  return startLoad('POST /api/orders', connections, {
    url: baseUrl,
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
    body: ORDER_BODY,
    requests: [{ method: 'POST', path: '/api/orders', setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } }) }],
  });
}

/** Both endpoints at once, `connections` each; `stopAfter(ms)` waits, stops both and resolves with [GET, POST]. */
export function loadApi(baseUrl: string, token: string, connections: number): { stopAfter(ms: number): Promise<LoadResult[]> } {
  const loads = [loadCatalogList(baseUrl, connections), loadOrders(baseUrl, token, connections)];
  return {
    async stopAfter(ms) {
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      return Promise.all(loads.map((load) => load.stop()));
    },
  };
}

/** Non-2xx responses and connection errors: any makes the latencies meaningless. */
export function loadProblems(results: LoadResult[], prefix = ''): string[] {
  return results.flatMap((r) => [
    ...(r.non2xx > 0 ? [`${prefix}${r.endpoint}: ${r.non2xx} non-2xx responses ${JSON.stringify(r.statusCodes)}`] : []),
    ...(r.errors > 0 ? [`${prefix}${r.endpoint}: ${r.errors} connection errors (${r.timeouts} timeouts)`] : []),
  ]);
}
