import { h, itemOfJob, jobLink, links, num, pager, statusBadge, table, time } from './dom.js';
import { PRIORITIES } from './queues.page.js';

export const title = 'Find jobs';
/** A form the operator is filling in: the page is not redrawn under them every few seconds. */
export const autoRefresh = false;

const priorityName = new Map(PRIORITIES);
const STATES = ['', 'ready', 'delayed', 'active', 'parked'];
const filter = { queue: undefined, state: 'parked', priority: '', q: '', payload_field: '', payload_value: '', from: '', to: '' };
let pageNumber = 1;
let appliedHash;

/** A link here (`#jobs?queue=…&payload_field=…`) sets the filter, once per navigation. */
function applyParams(params) {
  if (appliedHash === location.hash || [...params.keys()].length === 0) return;
  appliedHash = location.hash;
  for (const key of Object.keys(filter)) filter[key] = params.get(key) ?? (key === 'queue' ? filter.queue : '');
  pageNumber = 1;
}

/** The filter as the operator API reads it: empty fields left out, times as epoch milliseconds. */
function apiFilter() {
  const query = {};
  for (const key of ['state', 'priority', 'q', 'payload_field', 'payload_value']) if (filter[key] !== '') query[key] = key === 'priority' ? Number(filter[key]) : filter[key];
  for (const key of ['from', 'to']) if (filter[key] !== '') query[key] = new Date(filter[key]).getTime();
  return query;
}

function field(label, key, control) {
  control.addEventListener('input', () => (filter[key] = control.value));
  control.value = filter[key];
  control.name = key;
  return h('label', { class: 'field' }, label, control);
}

export async function render({ api, act, confirm, refresh, params }) {
  applyParams(params);
  const { data: queues } = await api.queues();
  if (!queues.some((q) => q.queue === filter.queue)) filter.queue = queues[0]?.queue;
  const result = await api.searchJobs(filter.queue, apiFilter(), pageNumber);
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const search = (event) => {
    event.preventDefault();
    pageNumber = 1;
    void refresh();
  };
  const form = h(
    'form',
    { id: 'job-search', class: 'search', onsubmit: search },
    field('queue', 'queue', h('select', {}, queues.map((q) => h('option', { value: q.queue }, q.queue)))),
    field('state', 'state', h('select', {}, STATES.map((state) => h('option', { value: state }, state || 'any')))),
    field('priority', 'priority', h('select', {}, h('option', { value: '' }, 'any'), PRIORITIES.map(([value, name]) => h('option', { value: String(value) }, name)))),
    field('text in payload or error', 'q', h('input', { type: 'search', placeholder: '503' })),
    field('payload field', 'payload_field', h('input', { type: 'text', placeholder: 'itemId' })),
    field('equals', 'payload_value', h('input', { type: 'text', placeholder: '42' })),
    field('enqueued from', 'from', h('input', { type: 'datetime-local' })),
    field('to', 'to', h('input', { type: 'datetime-local' })),
    h('button', { type: 'submit' }, 'Search'),
  );
  const { total } = result.meta;
  const parkedOnly = filter.state === '' || filter.state === 'parked';
  const onResults = (action) => async () => {
    const what = action === 'retry' ? 'Retry, with fresh attempts,' : 'Delete';
    if (!(await confirm(`${what} every parked job of ${filter.queue} that this search finds (${total} found)?`))) return;
    await act(() => (action === 'retry' ? api.retryFound(filter.queue, apiFilter()) : api.purgeFound(filter.queue, apiFilter())), (r) => (action === 'retry' ? `${r.retried} jobs sent back to ${filter.queue}.` : `${r.purged} parked jobs deleted.`));
  };
  const actions = h(
    'div',
    { class: 'actions' },
    h('span', { id: 'search-total' }, `${total} found`),
    h('button', { type: 'button', id: 'retry-found', disabled: total === 0 || !parkedOnly, onclick: onResults('retry') }, 'Retry the results'),
    h('button', { type: 'button', id: 'purge-found', class: 'danger', disabled: total === 0 || !parkedOnly, onclick: onResults('purge') }, 'Purge the results'),
  );
  const scope = result.scope === 'parked' ? h('p', { class: 'muted', id: 'search-scope' }, 'This queue is on RabbitMQ, whose ready messages cannot be read in place: the search covers its parked jobs only.') : null;
  const rows = result.data.map((job) =>
    h(
      'tr',
      { dataset: { job: job.id } },
      h('td', { class: 'mono' }, jobLink(job.queue, job.id)),
      h('td', {}, statusBadge(job.state)),
      h('td', {}, priorityName.get(job.priority) ?? job.priority),
      h('td', { class: 'num' }, `${job.attempts} / ${job.maxAttempts}`),
      h('td', {}, time(job.createdAt)),
      h('td', { class: 'error-text' }, job.lastError ?? '—'),
      h('td', {}, h('pre', {}, JSON.stringify(job.payload, null, 2))),
      h('td', {}, itemOfJob(job) === undefined ? '' : h('a', { href: links.orderOfItem(itemOfJob(job)), class: 'order-link' }, 'its order')),
    ),
  );
  return [form, scope, actions, table(['job', 'state', 'priority', num('attempts'), 'enqueued', 'last error', 'payload', ''], rows, 'No job matches.'), pager(result.meta, go)];
}
