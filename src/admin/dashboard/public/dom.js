// Builds DOM nodes; text always goes in as text, never as markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/**
 * A table in a container that scrolls sideways on a narrow screen. A heading is a label, or
 * `{ label, num: true }` for a numeric column, right-aligned like its numbers. Each cell carries its
 * heading as `data-label`, for tables that stack their cells on a narrow screen (class `stack`).
 */
export function table(headings, rows, empty = 'Nothing here.', { stack = false } = {}) {
  if (rows.length === 0) return h('p', { class: 'muted empty' }, empty);
  const columns = headings.map((heading) => (typeof heading === 'string' ? { label: heading, num: false } : heading));
  for (const row of rows) {
    [...row.children].forEach((cell, i) => {
      if (columns[i]?.label) cell.dataset.label = columns[i].label;
    });
  }
  const head = h('thead', {}, h('tr', {}, columns.map(({ label, num }) => h('th', { class: num ? 'num' : undefined, scope: 'col' }, label))));
  return h('div', { class: 'table-scroll' }, h('table', { class: stack ? 'stack' : undefined }, head, h('tbody', {}, rows)));
}

export const num = (label) => ({ label, num: true });

const pad = (n) => String(n).padStart(2, '0');

/**
 * The one format of every time on the page: the browser's own zone, its offset shown
 * ("2026-12-04 10:32:05 UTC+01:00"). Takes epoch milliseconds or an ISO string.
 */
export function formatTime(value) {
  if (value === null || value === undefined) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const offset = -date.getTimezoneOffset();
  const zone = `UTC${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`;
}

/** A `<time>` showing formatTime, with the instant in UTC (ISO 8601) as its tooltip. */
export function time(value) {
  if (value === null || value === undefined) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const iso = date.toISOString();
  return h('time', { datetime: iso, title: iso }, formatTime(date));
}

/**
 * "1–100 of 1428" with Previous and Next, from a page's `meta` (Laravel's paginator keys);
 * `go(page)` shows another page. Nothing when everything fits on one page.
 */
export function pager(meta, go) {
  if (meta.total <= meta.per_page && meta.current_page === 1) return null;
  const range = meta.from === null ? `none of ${meta.total}` : `${meta.from}–${meta.to} of ${meta.total}`;
  return h(
    'div',
    { class: 'pager' },
    h('button', { type: 'button', class: 'secondary', 'data-page': 'prev', disabled: meta.current_page <= 1, onclick: () => go(Math.min(meta.current_page - 1, meta.last_page)) }, '‹ Previous'),
    h('span', { class: 'range', 'aria-live': 'polite' }, range),
    h('button', { type: 'button', class: 'secondary', 'data-page': 'next', disabled: meta.current_page >= meta.last_page, onclick: () => go(meta.current_page + 1) }, 'Next ›'),
  );
}

export function duration(fromMs, toMs) {
  if (!fromMs || !toMs) return '—';
  const seconds = (toMs - fromMs) / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function bytes(count) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function statusBadge(status) {
  return h('span', { class: `badge ${status}` }, status);
}

/** Where a job of `orders.integration` leads, and back: its item's order, and an item's job. */
export const links = {
  orderOfItem: (itemId) => `#orders?item=${encodeURIComponent(itemId)}`,
  jobOfItem: (itemId) => `#jobs?${new URLSearchParams({ queue: 'orders.integration', state: '', payload_field: 'itemId', payload_value: String(itemId) })}`,
  job: (queue, id) => `#job?${new URLSearchParams({ queue, id })}`,
};

/** A job's id, leading to its page (payload, headers and every attempt). */
export function jobLink(queue, id) {
  return h('a', { href: links.job(queue, id), class: 'job-page-link' }, id);
}

/** The item a job of `orders.integration` sends, or undefined for any other job. */
export function itemOfJob(job) {
  return job.queue === 'orders.integration' && Number.isInteger(job.payload?.itemId) ? job.payload.itemId : undefined;
}
