import { duration, formatTime, h, num, table, time } from './dom.js';
import { historyCharts, rangeOf, rangeTabs } from './queue-history.js';
import { queuePause } from './queue-pause.js';

export const title = 'Queues';

export const PRIORITIES = [
  [5, 'max'],
  [4, 'critical'],
  [3, 'high'],
  [2, 'normal'],
  [1, 'low'],
];
const STATES = ['ready', 'delayed', 'active', 'parked'];
const OUTCOMES = ['completed', 'retried', 'failed', 'parked'];

export async function render({ api, act, confirm, params }) {
  const range = rangeOf(params);
  const { data } = await api.queues();
  const charts = await Promise.all(data.map((stats) => historyCharts(api, stats.queue, range)));
  return [rangeTabs(range), data.map((stats, i) => queueSection(stats, charts[i], { api, act, confirm }))];
}

/** How long the oldest ready job has waited, and a warning past QUEUE_WAIT_WARN_S; nothing where the driver cannot tell. */
function waitLine(stats) {
  if (stats.oldestReadySince === undefined) return h('p', { class: 'muted wait' }, 'This queue driver cannot tell how long its ready jobs have waited.');
  if (stats.oldestReadySince === null) return h('p', { class: 'muted wait' }, 'No job waits for a worker.');
  const waited = `${duration(stats.oldestReadySince, Date.now())}, since ${formatTime(stats.oldestReadySince)}`;
  if (stats.longWait) return h('p', { class: 'lock wait long-wait', role: 'alert' }, `Long wait: the oldest ready job has waited ${waited}, more than ${stats.waitWarnS} s (QUEUE_WAIT_WARN_S).`);
  return h('p', { class: 'muted wait' }, `The oldest ready job has waited ${waited}.`);
}

const HOLD_REASONS = {
  circuit_open: 'its circuit is open',
  probe_in_flight: 'its half-open circuit is probing',
  paused: 'it asked to wait (Retry-After)',
  releasing: 'its circuit has closed; the held jobs start together, by priority',
  forced_open: 'an operator forced its circuit open',
};

/** Why the workers claim nothing while the queue's one destination is held, with a link to its circuit. */
function holdLine(held) {
  if (!held) return null;
  const until = held.until === null ? 'until that changes' : `until ${formatTime(held.until)}`;
  return h(
    'p',
    { class: 'lock held', role: 'status', dataset: { heldReason: held.reason } },
    `Held: ${held.destination} — ${HOLD_REASONS[held.reason] ?? held.reason} — ${until}. No worker claims its jobs meanwhile; they wait here by priority. `,
    h('a', { href: '#circuits' }, 'Circuits'),
  );
}

function queueSection(stats, charts, controls) {
  return h(
    'section',
    { class: 'card', dataset: { queue: stats.queue, longWait: stats.longWait ? 'true' : 'false', held: stats.held ? 'true' : 'false' } },
    h('h3', {}, stats.queue),
    queuePause(stats, controls),
    holdLine(stats.held),
    waitLine(stats),
    h('h4', {}, 'Depth by state and priority'),
    depthTable(stats),
    h('h4', {}, 'Finished per minute (all workers)'),
    throughputTable(stats.throughput),
    charts,
  );
}

function depthTable(stats) {
  const rows = STATES.map((state) => {
    const exact = stats.byPriorityExact?.[state] !== false;
    return h(
      'tr',
      { dataset: { state } },
      h('th', {}, state),
      h('td', { class: 'num total' }, stats.counts[state]),
      PRIORITIES.map(([priority]) => h('td', { class: 'num' }, exact ? (stats.byPriority[state][priority] ?? 0) : '?')),
    );
  });
  const notes = STATES.some((state) => stats.byPriorityExact?.[state] === false) ? h('p', { class: 'muted' }, '? — this queue driver cannot count that state by priority.') : null;
  return [table(['state', num('total'), ...PRIORITIES.map(([priority, name]) => num(`${name} (${priority})`))], rows), notes];
}

function throughputTable(minutes) {
  const rows = minutes.map((minute, i) =>
    h(
      'tr',
      {},
      h('td', {}, time(minute.minute), i === minutes.length - 1 ? ' (now)' : ''),
      OUTCOMES.map((outcome) => h('td', { class: `num ${outcome}` }, minute[outcome])),
    ),
  );
  const lastFull = minutes.at(-2);
  const rate = lastFull ? h('p', { class: 'muted' }, `${(lastFull.completed / 60).toFixed(1)} jobs/s completed in the last full minute`) : null;
  return [table(['minute', ...OUTCOMES.map(num)], rows), rate];
}
