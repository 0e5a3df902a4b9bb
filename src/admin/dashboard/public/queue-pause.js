// A queue's pause on the Queues page: since when and by whom it is paused, and Pause / Resume.
import { formatTime, h } from './dom.js';

export function queuePause(stats, { api, act, confirm }) {
  const { queue, paused } = stats;
  if (paused) {
    const why = paused.reason ? `: ${paused.reason}` : '';
    return h(
      'div',
      { class: 'actions queue-pause', dataset: { paused: 'true' } },
      h('p', { class: 'paused-since', role: 'status' }, `Paused since ${formatTime(paused.at)} by ${paused.by}${why}. No worker claims its jobs; new jobs wait.`),
      h('button', { type: 'button', dataset: { queueAction: 'resume' }, onclick: () => act(() => api.resumeQueue(queue), () => `${queue}: resumed; its workers claim jobs again`) }, 'Resume'),
    );
  }
  const pause = async () => {
    if (await confirm(`Pause ${queue}? Every worker stops claiming its jobs within a second; the jobs running finish, new jobs wait until it is resumed.`)) {
      await act(() => api.pauseQueue(queue), (r) => `${queue}: paused since ${formatTime(r.paused.at)}`);
    }
  };
  return h('div', { class: 'actions queue-pause', dataset: { paused: 'false' } }, h('button', { type: 'button', class: 'danger', dataset: { queueAction: 'pause' }, onclick: pause }, 'Pause'));
}
