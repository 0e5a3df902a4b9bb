// The operator API, called with the token the operator signed in with (kept in this tab only).
const TOKEN_KEY = 'intake.operatorToken';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function call(method, path, body, token = session.token()) {
  const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const payload = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, payload?.message ?? `${method} ${path} answered ${response.status}`);
  return payload;
}

/** An SVG drawn by the server, as a node to put in the page; parsed as SVG, so no script in it runs. */
async function svg(path) {
  const response = await fetch(path, { headers: { accept: 'image/svg+xml', authorization: `Bearer ${session.token()}` } });
  if (!response.ok) {
    const payload = await response.json().catch(() => null);
    throw new ApiError(response.status, payload?.message ?? `GET ${path} answered ${response.status}`);
  }
  const parsed = new DOMParser().parseFromString(await response.text(), 'image/svg+xml');
  return document.importNode(parsed.documentElement, true);
}

const PARKED_PER_PAGE = 100;
const ORDERS_PER_PAGE = 50;
const WEBHOOKS_PER_PAGE = 50;
const CIRCUITS_PER_PAGE = 50;
const JOBS_PER_PAGE = 50;
const WORKERS_PER_PAGE = 50;
const RECENT_PER_PAGE = 50;
const FEED_RUNS_PER_PAGE = 20;

const queuePath = (queue) => `/api/admin/queues/${encodeURIComponent(queue)}`;

export const api = {
  /** Resolves when `token` may use the operator API; rejects with the reason otherwise. */
  verify: (token) => call('GET', '/api/admin/queues', undefined, token),
  queues: () => call('GET', '/api/admin/queues'),
  pauseQueue: (queue) => call('POST', `${queuePath(queue)}/pause`, {}),
  resumeQueue: (queue) => call('POST', `${queuePath(queue)}/resume`, {}),
  workers: (page) => call('GET', `/api/admin/workers?page=${page}&per_page=${WORKERS_PER_PAGE}`),
  historyChart: (queue, range, chart) => svg(`${queuePath(queue)}/history.svg?${new URLSearchParams({ range, chart })}`),
  parked: (queue, page) => call('GET', `${queuePath(queue)}/parked?page=${page}&per_page=${PARKED_PER_PAGE}`),
  retryParked: (queue, ids) => call('POST', `${queuePath(queue)}/parked/retry`, { ids }),
  purgeParked: (queue, ids) => call('POST', `${queuePath(queue)}/parked/purge`, ids === 'all' ? { confirm: true } : { ids, confirm: true }),
  orders: (page, itemId) => call('GET', `/api/admin/orders?page=${page}&per_page=${ORDERS_PER_PAGE}${itemId ? `&item_id=${encodeURIComponent(itemId)}` : ''}`),
  feedRuns: (page) => call('GET', `/api/admin/feed/runs?page=${page}&per_page=${FEED_RUNS_PER_PAGE}`),
  runFeed: () => call('POST', '/api/admin/feed/runs', {}),
  images: () => call('GET', '/api/admin/images'),
  retryFailedImages: () => call('POST', '/api/admin/images/retry-failed', {}),
  webhooks: (page) => call('GET', `/api/admin/webhooks?page=${page}&per_page=${WEBHOOKS_PER_PAGE}`),
  searchJobs: (queue, filter, page) => call('GET', `${queuePath(queue)}/jobs?${new URLSearchParams({ ...filter, page, per_page: JOBS_PER_PAGE })}`),
  recentJobs: (queue, outcome, page) => call('GET', `${queuePath(queue)}/recent?${new URLSearchParams({ outcome, page, per_page: RECENT_PER_PAGE })}`),
  job: (queue, id) => call('GET', `${queuePath(queue)}/jobs/${encodeURIComponent(id)}`),
  retryFound: (queue, filter) => call('POST', `${queuePath(queue)}/jobs/retry`, { ...filter, confirm: true }),
  purgeFound: (queue, filter) => call('POST', `${queuePath(queue)}/jobs/purge`, { ...filter, confirm: true }),
  circuits: (page) => call('GET', `/api/admin/circuits?page=${page}&per_page=${CIRCUITS_PER_PAGE}`),
  forceCircuit: (destination, state) => call('POST', `/api/admin/circuits/${encodeURIComponent(destination)}/force`, { state }),
};
