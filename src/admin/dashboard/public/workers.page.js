import { duration, h, jobLink, num, pager, statusBadge, table, time } from './dom.js';

export const title = 'Workers';

let pageNumber = 1;

export async function render({ api, refresh }) {
  let listing = await api.workers(pageNumber);
  if (listing.data.length === 0 && pageNumber > 1) {
    pageNumber = listing.meta.last_page;
    listing = await api.workers(pageNumber);
  }
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const now = Date.now();
  const alive = listing.data.filter((worker) => worker.alive);
  const jobs = alive.reduce((sum, worker) => sum + worker.runningCount, 0);
  const summary = h('p', { class: 'muted', id: 'workers-summary' }, `${alive.length} worker process(es) alive on this page, running ${jobs} job(s).`);
  const rows = listing.data.map((worker) =>
    h(
      'tr',
      { dataset: { worker: worker.id, alive: String(worker.alive) } },
      h('td', {}, worker.id),
      h('td', {}, statusBadge(worker.alive ? 'alive' : 'gone')),
      h('td', {}, worker.role),
      h('td', {}, worker.hostname),
      h('td', { class: 'num' }, worker.pid),
      h('td', {}, duration(worker.startedAt, worker.alive ? now : worker.lastSeenAt)),
      h('td', {}, time(worker.lastSeenAt)),
      h('td', {}, worker.version),
      h('td', {}, worker.queues.map(({ queue, concurrency }) => `${queue} ×${concurrency}`).join(', ')),
      h('td', {}, runningJobs(worker, now)),
    ),
  );
  return [
    summary,
    table(['process', 'state', 'role', 'host', num('pid'), 'uptime', 'last seen', 'version', 'queues × concurrency', 'running now'], rows, 'No worker process has been seen within the last hour.', { stack: true }),
    pager(listing.meta, go),
  ];
}

/** Each job the process ran at its last heartbeat: its queue, its id (leading to its page), its attempt and how long it has run. */
function runningJobs(worker, now) {
  if (worker.runningCount === 0) return h('span', { class: 'muted' }, 'idle');
  const more = worker.runningCount - worker.running.length;
  return h(
    'ul',
    { class: 'items running-jobs' },
    worker.running.map((job) => h('li', { dataset: { queue: job.queue, job: job.id } }, `${job.queue} #`, jobLink(job.queue, job.id), ` attempt ${job.attempt}, running ${duration(job.startedAt, now)}`)),
    more > 0 ? h('li', { class: 'muted' }, `and ${more} more`) : null,
  );
}
