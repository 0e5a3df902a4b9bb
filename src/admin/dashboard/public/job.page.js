import { ApiError } from './api.js';
import { h, num, statusBadge, table, time } from './dom.js';
import { PRIORITIES } from './queues.page.js';

export const title = 'Job';
/** Finding a job on RabbitMQ reads its parked queue: not every few seconds. The page is drawn again after an action. */
export const autoRefresh = false;

const priorityName = new Map(PRIORITIES);

function field(label, value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function stateText(job) {
  if (job.state !== null) return statusBadge(job.state);
  return job.searched === 'parked' ? 'not parked: finished, or waiting in RabbitMQ, whose ready messages cannot be read in place' : 'finished, or unknown to the queue';
}

/** `#job?queue=…&id=…`: one job, as the queue holds it and as its attempts were recorded. */
export async function render({ api, act, confirm, params }) {
  const queue = params.get('queue');
  const id = params.get('id');
  if (!queue || !id) return h('p', { class: 'muted' }, 'Open a job from the Recent, Parked or Find jobs page.');
  let job;
  try {
    job = await api.job(queue, id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return h('p', { class: 'muted empty', id: 'job-missing' }, error.message);
    throw error;
  }
  const retry = () =>
    confirm(`Retry parked job ${id} of ${queue} with fresh attempts?`).then(
      (ok) => ok && act(() => api.retryParked(queue, [id]), (r) => (r.retried ? `Job ${id} sent back to ${queue}.` : `Job ${id} was no longer parked.`)),
    );
  const actions = job.state === 'parked' ? h('div', { class: 'actions' }, h('button', { type: 'button', id: 'retry-job', onclick: retry }, 'Retry')) : null;
  const summary = h(
    'dl',
    { class: 'job-summary', id: 'job-summary', dataset: { job: id } },
    field('job', h('span', { class: 'mono' }, id)),
    field('queue', queue),
    field('state', stateText(job)),
    field('priority', job.priority === null ? '—' : (priorityName.get(job.priority) ?? job.priority)),
    field('enqueued', time(job.enqueuedAt)),
    field('trace id', job.traceId === null ? '—' : h('span', { class: 'mono', id: 'trace-id' }, job.traceId)),
    job.attemptsMade === null ? null : field('attempts', `${job.attemptsMade} / ${job.maxAttempts}`),
    job.lastError === null ? null : field('last error', h('span', { class: 'error-text' }, job.lastError)),
  );
  const rows = job.attempts.map((attempt) =>
    h(
      'tr',
      { dataset: { outcome: attempt.outcome } },
      h('td', { class: 'num' }, attempt.attempt),
      h('td', {}, statusBadge(attempt.outcome)),
      h('td', {}, time(attempt.startedAt)),
      h('td', { class: 'num' }, attempt.durationMs === null ? '—' : `${attempt.durationMs} ms`),
      h('td', { class: 'error-text' }, attempt.error ?? '—'),
      h('td', { class: 'mono' }, attempt.process ?? '—'),
    ),
  );
  return [
    actions,
    summary,
    h('h4', {}, 'Attempts'),
    h('div', { id: 'job-attempts' }, table([num('attempt'), 'outcome', 'started', num('took'), 'error', 'worker'], rows, 'No attempt recorded (JOB_ATTEMPT_LOG).')),
    h('h4', {}, 'Payload'),
    h('pre', { id: 'job-payload' }, JSON.stringify(job.payload, null, 2)),
    h('h4', {}, 'Headers'),
    h('pre', { id: 'job-headers' }, job.headers === null ? '—' : JSON.stringify(job.headers, null, 2)),
  ];
}
