import { h, jobLink, num, pager, statusBadge, table, time } from './dom.js';
import { PRIORITIES } from './queues.page.js';

export const title = 'Recent jobs';

const priorityName = new Map(PRIORITIES);
/** What the operator API's `outcome` filter takes, with the tab's label. */
const KINDS = [
  ['failed', 'Failed or parked'],
  ['completed', 'Completed'],
  ['retried', 'Retry due'],
];
let selected;
let kind = 'failed';
let pageNumber = 1;
let appliedHash;

/** A link here (`#recent?queue=…&outcome=completed`) picks the queue and the tab, once per navigation. */
function applyParams(params) {
  if (appliedHash === location.hash || [...params.keys()].length === 0) return;
  appliedHash = location.hash;
  selected = params.get('queue') ?? selected;
  if (KINDS.some(([value]) => value === params.get('outcome'))) kind = params.get('outcome');
  pageNumber = 1;
}

function tabs(items, isActive, choose) {
  return h(
    'div',
    { class: 'tabs', role: 'tablist' },
    items.map(([value, label]) =>
      h('button', { type: 'button', role: 'tab', dataset: { value }, 'aria-selected': isActive(value), class: isActive(value) ? 'active' : 'secondary', onclick: () => choose(value) }, label),
    ),
  );
}

export async function render({ api, refresh, params }) {
  applyParams(params);
  const { data: queues } = await api.queues();
  if (!queues.some((q) => q.queue === selected)) selected = queues[0]?.queue;
  let result = await api.recentJobs(selected, kind, pageNumber);
  // Past the last page (older attempts were swept meanwhile): show the last one.
  if (result.data.length === 0 && pageNumber > result.meta.last_page) {
    pageNumber = result.meta.last_page;
    result = await api.recentJobs(selected, kind, pageNumber);
  }
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const choose = (update) => (value) => {
    update(value);
    pageNumber = 1;
    void refresh();
  };
  const queuePicker = tabs(queues.map((q) => [q.queue, q.queue]), (value) => value === selected, choose((value) => (selected = value)));
  const kindPicker = h('div', { id: 'recent-kind' }, tabs(KINDS, (value) => value === kind, choose((value) => (kind = value))));
  const { total } = result.meta;
  const jobs = `${total}${result.totalCapped ? '+' : ''} job${total === 1 && !result.totalCapped ? '' : 's'}`;
  const count = h('p', { class: 'muted', id: 'recent-total' }, `${jobs} whose latest attempt is ${KINDS.find(([value]) => value === kind)[1].toLowerCase()}, newest first`);
  const rows = result.data.map((job) =>
    h(
      'tr',
      { dataset: { job: job.id } },
      h('td', { class: 'mono' }, jobLink(job.queue, job.id)),
      h('td', {}, statusBadge(job.outcome)),
      h('td', { class: 'num' }, job.attempt),
      h('td', {}, time(job.at)),
      h('td', { class: 'num' }, job.durationMs === null ? '—' : `${job.durationMs} ms`),
      h('td', {}, job.priority === null ? '—' : (priorityName.get(job.priority) ?? job.priority)),
      h('td', { class: 'error-text' }, job.error ?? '—'),
      h('td', {}, h('pre', {}, job.payloadSummary ?? '—')),
    ),
  );
  const headings = ['job', 'outcome', num('attempt'), 'at', num('took'), 'priority', 'error', 'payload'];
  const list = pager(result.meta, go);
  return [queuePicker, kindPicker, count, list, table(headings, rows, `No recent job of ${selected} ended this way (JOB_ATTEMPT_LOG keeps JOB_ATTEMPT_LOG_HOURS of them).`), list && pager(result.meta, go)];
}
