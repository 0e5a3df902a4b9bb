import { duration, formatTime, h, num, pager, statusBadge, table, time } from './dom.js';

export const title = 'Feed runs';

const COUNTS = [
  ['items_seen', 'seen'],
  ['items_declared', 'declared'],
  ['created_count', 'created'],
  ['updated_count', 'updated'],
  ['unchanged_count', 'unchanged'],
  ['removed_count', 'removed'],
  ['invalid_count', 'invalid'],
  ['repaired_count', 'repaired'],
  ['images_enqueued', 'images'],
];

let pageNumber = 1;

export async function render({ api, act, refresh }) {
  let listing = await api.feedRuns(pageNumber);
  if (listing.data.length === 0 && pageNumber > 1) {
    pageNumber = listing.meta.last_page;
    listing = await api.feedRuns(pageNumber);
  }
  const { data, lock, meta } = listing;
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const running = lock !== null || data.some((run) => run.status === 'running');
  const holder = lock ? h('p', { class: 'lock', id: 'feed-lock' }, `Ingestion running: held by ${lock.holder} since ${formatTime(lock.since)}.`) : null;
  const runNow = h('button', { type: 'button', id: 'run-feed', disabled: running, onclick: () => act(() => api.runFeed(), (r) => r.message) }, running ? 'Ingestion running…' : 'Run ingestion now');
  const rows = data.map((run) =>
    h(
      'tr',
      { dataset: { run: run.id } },
      h('td', { class: 'num' }, run.id),
      h('td', {}, statusBadge(run.status)),
      h('td', {}, run.trigger),
      h('td', {}, time(run.started_at)),
      h('td', { class: 'num' }, duration(run.started_at, run.finished_at)),
      COUNTS.map(([field]) => h('td', { class: 'num' }, run[field] ?? (field === 'items_declared' ? '–' : 0))),
      h('td', { class: 'warning-text' }, run.warning ?? ''),
      h('td', { class: 'error-text' }, run.error ?? ''),
    ),
  );
  return [h('div', { class: 'actions' }, runNow, holder), table([num('run'), 'status', 'trigger', 'started', num('took'), ...COUNTS.map(([, label]) => num(label)), 'warning', 'error'], rows, 'No feed runs yet.'), pager(meta, go)];
}
