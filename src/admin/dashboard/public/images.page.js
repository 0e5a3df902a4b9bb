import { bytes, h } from './dom.js';

export const title = 'Image cache';

export async function render({ api, act }) {
  const stats = await api.images();
  const failed = stats.byStatus.failed ?? 0;
  const tile = (label, value, kind = '') => h('div', { class: `tile ${kind}`, dataset: { tile: label } }, h('span', { class: 'value' }, value), h('span', { class: 'label' }, label));
  const retry = h(
    'button',
    { type: 'button', disabled: failed === 0, onclick: () => act(() => api.retryFailedImages(), (r) => `${r.images} failed images sent back for download (${r.parkedJobs} parked jobs re-driven).`) },
    `Retry failed downloads (${failed})`,
  );
  return [
    h(
      'div',
      { class: 'tiles' },
      tile('images', stats.total),
      tile('cached', stats.byStatus.cached ?? 0, 'completed'),
      tile('pending', stats.byStatus.pending ?? 0, 'received'),
      tile('failed', failed, 'failed'),
      tile('bytes cached', bytes(stats.cachedBytes)),
    ),
    h('h4', {}, 'Download jobs'),
    h('div', { class: 'tiles' }, Object.entries(stats.jobs).map(([state, count]) => tile(state, count))),
    h('div', { class: 'actions' }, retry),
  ];
}
