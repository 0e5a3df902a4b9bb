import { h, links, num, pager, statusBadge, table, time } from './dom.js';

export const title = 'Orders';

let pageNumber = 1;

export async function render({ api, refresh, params }) {
  const itemId = params.get('item') ?? undefined;
  let orders = await api.orders(itemId ? 1 : pageNumber, itemId);
  // Past the last page (orders were deleted meanwhile): show the last one.
  if (orders.data.length === 0 && pageNumber > orders.meta.last_page && !itemId) {
    pageNumber = orders.meta.last_page;
    orders = await api.orders(pageNumber);
  }
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const rows = orders.data.map((order) =>
    h(
      'tr',
      { dataset: { order: order.id } },
      h('td', { class: 'num' }, order.id),
      h('td', { class: 'user', title: `user ${order.user.id}` }, h('span', { class: 'name' }, order.user.name), h('span', { class: 'muted email' }, order.user.email)),
      h('td', {}, order.client.identity),
      h('td', {}, time(order.created_at)),
      h('td', {}, h('ul', { class: 'items' }, order.contents.map(itemLine))),
    ),
  );
  if (itemId) {
    const heading = h('p', { class: 'filter', id: 'orders-filter' }, `The order holding item ${itemId}. `, h('a', { href: '#orders' }, 'Every order'));
    return [heading, table([num('order'), 'user', 'client', 'created', 'items'], rows, `No order holds item ${itemId}.`, { stack: true })];
  }
  const list = pager(orders.meta, go);
  return [list, table([num('order'), 'user', 'client', 'created', 'items'], rows, 'No orders yet.', { stack: true }), list && pager(orders.meta, go)];
}

function itemLine(item) {
  const details = item.details;
  const outcome = details ? [`${details.attempts} attempt${details.attempts === 1 ? '' : 's'}`, details.status_code && `HTTP ${details.status_code}`, details.last_error].filter(Boolean).join(' · ') : '';
  const job = item.kind === 'recurring' ? [' ', h('a', { href: links.jobOfItem(item.id), class: 'job-link' }, 'its job')] : [];
  return h('li', { dataset: { item: item.id } }, statusBadge(item.status), ` ${item.label} `, h('span', { class: 'muted' }, `${item.kind} · ${item.priority}${outcome ? ` · ${outcome}` : ''}`), job);
}
