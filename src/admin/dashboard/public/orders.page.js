import { h, statusBadge, table } from './dom.js';

export const title = 'Recent orders';

export async function render({ api }) {
  const { data } = await api.orders();
  const rows = data.map((order) =>
    h(
      'tr',
      { dataset: { order: order.id } },
      h('td', { class: 'num' }, order.id),
      h('td', { class: 'num' }, order.user_id),
      h('td', {}, order.client.identity),
      h('td', {}, order.created_at),
      h('td', {}, h('ul', { class: 'items' }, order.contents.map(itemLine))),
    ),
  );
  return table(['order', 'user', 'client', 'created', 'items'], rows, 'No orders yet.');
}

function itemLine(item) {
  const details = item.details;
  const outcome = details ? [`${details.attempts} attempt${details.attempts === 1 ? '' : 's'}`, details.status_code && `HTTP ${details.status_code}`, details.last_error].filter(Boolean).join(' · ') : '';
  return h('li', { dataset: { item: item.id } }, statusBadge(item.status), ` ${item.label} `, h('span', { class: 'muted' }, `${item.kind} · ${item.priority}${outcome ? ` · ${outcome}` : ''}`));
}
