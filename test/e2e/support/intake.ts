import path from 'node:path';
import Sqlite from 'better-sqlite3';
import { MAIN_JS, spawnNode, waitUntilServing, type ManagedProcess } from '../../support/processes.js';

export interface Served {
  process: ManagedProcess;
  url: string;
}

/** Runs `node dist/src/main.js` with `env` (ROLE, PORT, ...) and waits until `/health` answers. */
export async function startRole(name: string, env: Record<string, string> & { PORT: string }): Promise<Served> {
  const url = `http://127.0.0.1:${env.PORT}`;
  const managed = spawnNode(name, MAIN_JS, { HOST: '127.0.0.1', LOG_LEVEL: 'warn', FEED_INGEST_ON_START: 'false', ...env });
  await waitUntilServing(managed, `${url}/health`);
  return { process: managed, url };
}

export interface JsonResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export async function requestJson<T>(url: string, init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON; keep the text for the failure message
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

/** `POST /api/register`; returns the bearer token. */
export async function registerUser(baseUrl: string, email: string): Promise<string> {
  const password = 'correct horse battery staple';
  const response = await requestJson<{ token?: string }>(`${baseUrl}/api/register`, {
    method: 'POST',
    body: { name: 'E2E', email, password, password_confirmation: password },
  });
  if (response.status !== 201 || typeof response.body.token !== 'string') {
    throw new Error(`register answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body.token;
}

export interface ItemView {
  id: number;
  label: string;
  kind: 'single' | 'recurring';
  priority: string;
  status: 'received' | 'processing' | 'completed' | 'failed';
  details: { status_code: number | null; attempts: number; duration_ms: number; last_error: string | null; completed_at?: string } | null;
}

export interface OrderView {
  id: number;
  contents: ItemView[];
}

/** Every order of the caller, through `GET /api/orders` pages of 100. */
export async function listAllOrders(baseUrl: string, token: string): Promise<OrderView[]> {
  const orders: OrderView[] = [];
  for (let page = 1; ; page++) {
    const response = await requestJson<{ data: OrderView[]; meta: { last_page: number } }>(`${baseUrl}/api/orders?per_page=100&page=${page}`, { token });
    if (response.status !== 200) throw new Error(`GET /api/orders answered ${response.status}: ${JSON.stringify(response.body)}`);
    orders.push(...response.body.data);
    if (page >= response.body.meta.last_page) return orders;
  }
}

export interface SimulatorStats {
  received: number;
  applied: number;
  duplicates: number;
  failed: number;
  distinct_keys: number;
  keys?: Record<string, { received: number; applied: number }>;
}

export async function simulatorStats(simulatorUrl: string, keys = false): Promise<SimulatorStats> {
  const response = await requestJson<SimulatorStats>(`${simulatorUrl}/simulator/stats${keys ? '?keys=true' : ''}`);
  if (response.status !== 200) throw new Error(`GET /simulator/stats answered ${response.status}`);
  return response.body;
}

export interface JobRecord {
  id: number;
  queue: string;
  state: 'ready' | 'active' | 'parked';
  attempts: number;
  max_attempts: number;
  itemId: number | undefined;
  last_error: string | null;
}

/** The `jobs` table of a DATA_DIR, read through a read-only connection (safe while intake runs). */
export function readJobs(dataDir: string): JobRecord[] {
  const db = new Sqlite(path.join(dataDir, 'intake.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('select id, queue, state, attempts, max_attempts, payload, last_error from jobs order by id').all() as Array<Omit<JobRecord, 'itemId'> & { payload: string }>;
    return rows.map(({ payload, ...row }) => ({ ...row, itemId: (JSON.parse(payload) as { itemId?: number } | null)?.itemId }));
  } finally {
    db.close();
  }
}
