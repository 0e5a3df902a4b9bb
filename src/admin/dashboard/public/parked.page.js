import { h, itemOfJob, jobLink, links, num, pager, table, time } from './dom.js';
import { PRIORITIES } from './queues.page.js';

export const title = 'Parked jobs';

const priorityName = new Map(PRIORITIES);
let selected;
let pageNumber = 1;

export async function render({ api, act, confirm, refresh }) {
  const { data: queues } = await api.queues();
  if (!queues.some((q) => q.queue === selected)) select((queues.find((q) => q.counts.parked > 0) ?? queues[0])?.queue);
  let jobs = await api.parked(selected, pageNumber);
  // Past the last page (jobs were retried or purged meanwhile): show the last one.
  if (jobs.data.length === 0 && pageNumber > jobs.meta.last_page) {
    pageNumber = jobs.meta.last_page;
    jobs = await api.parked(selected, pageNumber);
  }
  const total = jobs.meta.total;
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };

  const picker = h(
    'div',
    { class: 'tabs', role: 'tablist' },
    queues.map((q) =>
      h(
        'button',
        {
          type: 'button',
          role: 'tab',
          'aria-selected': q.queue === selected,
          class: q.queue === selected ? 'active' : 'secondary',
          onclick: () => {
            select(q.queue);
            void refresh();
          },
        },
        `${q.queue} (${q.counts.parked})`,
      ),
    ),
  );
  const retryAll = () =>
    confirm(`Retry all ${total} parked jobs of ${selected} with fresh attempts?`).then(
      (ok) => ok && act(() => api.retryParked(selected, 'all'), (r) => `${r.retried} jobs sent back to ${selected}.`),
    );
  const purgeAll = () =>
    confirm(`Delete all ${total} parked jobs of ${selected}? They cannot be recovered.`).then(
      (ok) => ok && act(() => api.purgeParked(selected, 'all'), (r) => `${r.purged} parked jobs deleted.`),
    );
  const actions = h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', onclick: retryAll, disabled: total === 0 }, 'Retry all'),
    h('button', { type: 'button', class: 'danger', onclick: purgeAll, disabled: total === 0 }, 'Purge all'),
  );
  const rows = jobs.data.map((job) => jobRow(job, { api, act, confirm }));
  const headings = ['job', 'priority', num('attempts'), 'parked at', 'last error', 'payload', ''];
  const list = pager(jobs.meta, go);
  return [picker, actions, list, table(headings, rows, `No parked jobs in ${selected}.`), list && pager(jobs.meta, go)];
}

function select(queue) {
  selected = queue;
  pageNumber = 1;
}

function jobRow(job, { api, act, confirm }) {
  const retry = () => act(() => api.retryParked(job.queue, [job.id]), (r) => (r.retried ? `Job ${job.id} sent back to ${job.queue}.` : `Job ${job.id} was no longer parked.`));
  const purge = () =>
    confirm(`Delete parked job ${job.id}? It cannot be recovered.`).then(
      (ok) => ok && act(() => api.purgeParked(job.queue, [job.id]), (r) => (r.purged ? `Job ${job.id} deleted.` : `Job ${job.id} was no longer parked.`)),
    );
  return h(
    'tr',
    { dataset: { job: job.id } },
    h('td', { class: 'mono' }, jobLink(job.queue, job.id)),
    h('td', {}, priorityName.get(job.priority) ?? job.priority),
    h('td', { class: 'num' }, `${job.attempts} / ${job.maxAttempts}`),
    h('td', {}, time(job.parkedAt)),
    h('td', { class: 'error-text' }, job.lastError ?? '—'),
    h('td', {}, h('pre', {}, JSON.stringify(job.payload, null, 2)), itemOfJob(job) === undefined ? '' : h('a', { href: links.orderOfItem(itemOfJob(job)), class: 'order-link' }, 'its order')),
    h('td', { class: 'row-actions' }, h('button', { type: 'button', onclick: retry }, 'Retry'), h('button', { type: 'button', class: 'danger', onclick: purge }, 'Purge')),
  );
}
