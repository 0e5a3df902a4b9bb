// A queue's history on the Queues page: the server's SVG charts of what finished and how long jobs waited.
import { h } from './dom.js';

export const RANGES = ['1h', '24h', '7d', '14d'];

/** The range the page's hash asks for (`#queues?range=24h`), 1h by default. */
export function rangeOf(params) {
  const range = params.get('range');
  return RANGES.includes(range) ? range : '1h';
}

export function rangeTabs(current) {
  return h(
    'nav',
    { class: 'tabs history-ranges', 'aria-label': 'History range' },
    h('span', { class: 'muted' }, 'History:'),
    RANGES.map((range) => h('a', { href: `#queues?range=${range}`, class: range === current ? 'active' : undefined, 'aria-current': range === current ? 'page' : undefined }, `last ${range}`)),
  );
}

export async function historyCharts(api, queue, range) {
  const [throughput, wait] = await Promise.all([api.historyChart(queue, range, 'throughput'), api.historyChart(queue, range, 'wait')]);
  const per = range === '1h' || range === '24h' ? 'minute' : 'five minutes';
  return h(
    'div',
    { class: 'history', dataset: { range } },
    h('figure', { class: 'chart' }, h('figcaption', {}, `Finished per ${per} (all workers), last ${range}`), throughput),
    h('figure', { class: 'chart' }, h('figcaption', {}, `Wait for a worker, last ${range}`), wait),
  );
}
