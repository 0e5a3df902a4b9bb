import { formatTime, h, num, pager, table, time } from './dom.js';

export const title = 'Webhooks';

const OUTCOMES = ['succeeded', 'retrying', 'failed'];
const SVG = 'http://www.w3.org/2000/svg';
const CHART = { width: 720, height: 140, gap: 2 };

let pageNumber = 1;

export async function render({ api, refresh }) {
  let overview = await api.webhooks(pageNumber);
  // Past the last page (endpoints were deleted meanwhile): show the last one.
  if (overview.data.length === 0 && pageNumber > overview.meta.last_page) {
    pageNumber = overview.meta.last_page;
    overview = await api.webhooks(pageNumber);
  }
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const minutes = overview.deliveries_per_minute;
  const list = pager(overview.meta, go);
  return [
    h('section', { class: 'card', id: 'webhook-deliveries' }, h('h3', {}, `Deliveries per minute, last ${minutes.length} minutes`), totals(minutes), chart(minutes), minutesTable(minutes)),
    h(
      'section',
      { class: 'card', id: 'webhook-endpoints' },
      h('h3', {}, 'Endpoints'),
      h('p', { class: 'muted' }, 'Disabled first, then failing (the oldest failure first), then healthy.'),
      list,
      endpointsTable(overview.data),
      list && pager(overview.meta, go),
    ),
  ];
}

function totals(minutes) {
  const sum = (outcome) => minutes.reduce((total, minute) => total + minute[outcome], 0);
  const tile = (outcome) => h('div', { class: `tile ${outcome}`, dataset: { tile: outcome } }, h('span', { class: 'value' }, sum(outcome)), h('span', { class: 'label' }, outcome));
  return h('div', { class: 'tiles' }, OUTCOMES.map(tile));
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

const describeMinute = (minute) => `${formatTime(minute.minute)}: ${OUTCOMES.map((outcome) => `${minute[outcome]} ${outcome}`).join(', ')}`;

/** Stacked bars, one a minute, oldest on the left; each bar's tooltip gives its counts. */
function chart(minutes) {
  const busiest = Math.max(0, ...minutes.map((minute) => OUTCOMES.reduce((total, outcome) => total + minute[outcome], 0)));
  const peak = Math.max(1, busiest);
  const slot = CHART.width / Math.max(1, minutes.length);
  const bars = minutes.map((minute, i) => {
    let top = CHART.height;
    const parts = OUTCOMES.filter((outcome) => minute[outcome] > 0).map((outcome) => {
      const height = (minute[outcome] / peak) * CHART.height;
      top -= height;
      return svg('rect', { class: outcome, x: i * slot, y: top, width: Math.max(1, slot - CHART.gap), height });
    });
    return svg('g', { 'data-minute': minute.minute }, svg('title', {}, describeMinute(minute)), ...parts);
  });
  const baseline = svg('line', { class: 'axis', x1: 0, y1: CHART.height, x2: CHART.width, y2: CHART.height });
  const label = busiest === 0 ? 'Deliveries per minute by outcome: none.' : `Deliveries per minute by outcome; the busiest minute had ${busiest}.`;
  const figure = svg('svg', { class: 'chart', viewBox: `0 0 ${CHART.width} ${CHART.height + 1}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label }, baseline, ...bars);
  const legend = h('p', { class: 'legend muted' }, OUTCOMES.map((outcome) => h('span', { class: `key ${outcome}` }, outcome)), ` · scale: ${peak} a minute at the top`);
  return h('div', { class: 'chart-box' }, figure, legend);
}

/** The minutes that had deliveries, as numbers beside the chart. */
function minutesTable(minutes) {
  const busy = minutes.filter((minute) => OUTCOMES.some((outcome) => minute[outcome] > 0));
  const last = minutes.at(-1)?.minute;
  const rows = busy.map((minute) =>
    h(
      'tr',
      { dataset: { minute: minute.minute } },
      h('td', {}, time(minute.minute), minute.minute === last ? ' (now)' : ''),
      OUTCOMES.map((outcome) => h('td', { class: `num ${outcome}` }, minute[outcome])),
    ),
  );
  return table(['minute', ...OUTCOMES.map(num)], rows, `No deliveries in the last ${minutes.length} minutes.`);
}

function stateCell(endpoint) {
  if (endpoint.state === 'disabled') return [badge('disabled'), ' ', h('span', { class: 'error-text' }, endpoint.disabled_reason ?? 'disabled by its owner')];
  if (endpoint.state === 'failing') return [badge('failing'), ' since ', time(endpoint.failing_since)];
  return badge('enabled');
}

const badge = (state) => h('span', { class: `badge ${state}` }, state);

function endpointsTable(endpoints) {
  const rows = endpoints.map((endpoint) =>
    h(
      'tr',
      { dataset: { endpoint: endpoint.id, state: endpoint.state } },
      h('td', { class: 'num' }, endpoint.id),
      h('td', { class: 'user', title: `user ${endpoint.user.id}` }, h('span', { class: 'name' }, endpoint.user.name), h('span', { class: 'muted email' }, endpoint.user.email)),
      h('td', { class: 'url' }, h('span', { class: 'mono' }, endpoint.url), endpoint.description ? h('span', { class: 'muted description' }, endpoint.description) : null),
      h('td', { class: 'events' }, endpoint.events.join(', ')),
      h('td', { class: 'state' }, stateCell(endpoint)),
      h('td', { class: 'last-success' }, time(endpoint.last_success_at)),
      h('td', { class: 'num pending' }, endpoint.deliveries.pending),
      h('td', { class: 'num failed' }, endpoint.deliveries.failed),
    ),
  );
  return table([num('id'), 'user', 'url', 'events', 'state', 'last success', num('pending'), num('failed')], rows, 'No webhook endpoints yet.', { stack: true });
}
