import { h, pager, statusBadge, table, time } from './dom.js';

export const title = 'Circuits';

const FORCE = [
  ['open', 'Force open', 'Hold every job of this destination until the circuit is given back?'],
  ['closed', 'Force closed', 'Send every job of this destination, however it fails?'],
  ['auto', 'Give back', "Give this circuit back to its breaker?"],
];

let pageNumber = 1;

export async function render({ api, act, confirm, refresh }) {
  let listing = await api.circuits(pageNumber);
  if (listing.data.length === 0 && pageNumber > 1) {
    pageNumber = listing.meta.last_page;
    listing = await api.circuits(pageNumber);
  }
  const go = (page) => {
    pageNumber = page;
    void refresh();
  };
  const open = listing.data.filter((circuit) => circuit.state !== 'closed').length;
  const summary = h('p', { class: open > 0 ? 'lock' : 'muted', id: 'circuits-summary' }, open > 0 ? `${open} circuit(s) open or half-open on this page: their jobs are held, without spending attempts.` : 'Every circuit on this page is closed.');
  const rows = listing.data.map((circuit) =>
    h(
      'tr',
      { dataset: { destination: circuit.destination, state: circuit.state } },
      h('td', {}, circuit.destination),
      h('td', {}, statusBadge(circuit.state.replace('_', '-')), circuit.forced ? h('span', { class: 'muted' }, ` forced ${circuit.forced}`) : ''),
      h('td', {}, circuit.state === 'closed' ? '—' : time(circuit.open_until)),
      h('td', {}, time(circuit.paused_until)),
      h('td', { class: 'error-text' }, circuit.last_failure ?? ''),
      h('td', {}, time(circuit.last_failure_at)),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'actions' },
          FORCE.filter(([state]) => (state === 'auto' ? circuit.forced !== null : circuit.forced !== state)).map(([state, label, question]) =>
          h('button', { type: 'button', class: state === 'open' ? 'danger' : 'secondary', dataset: { force: state }, onclick: async () => {
            if (await confirm(`${question} (${circuit.destination})`)) await act(() => api.forceCircuit(circuit.destination, state), (r) => `${r.circuit.destination}: ${r.circuit.state}${r.circuit.forced ? ` (forced ${r.circuit.forced})` : ''}`);
          } }, label),
          ),
        ),
      ),
    ),
  );
  return [
    summary,
    table(['destination', 'state', 'probe after', 'paused until', 'last failure', 'failed at', ''], rows, 'No circuit has opened, been paused or forced: every destination is closed.', { stack: true }),
    pager(listing.meta, go),
  ];
}
