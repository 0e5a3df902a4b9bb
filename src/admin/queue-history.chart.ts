import type { HistoryBucket, QueueHistoryView } from '../platform/queue/queue-history.js';

export const HISTORY_CHARTS = ['throughput', 'wait'] as const;
export type HistoryChart = (typeof HISTORY_CHARTS)[number];

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 56, right: 16, top: 34, bottom: 30 };
/** At most one point per pixel column: longer ranges add neighbouring buckets together. */
const MAX_POINTS = WIDTH - PAD.left - PAD.right;

interface Series {
  name: string;
  colour: string;
  dashed?: boolean;
  values: Array<number | null>;
}

/**
 * A queue's history as a self-contained SVG line chart, drawn on the server so that the dashboard
 * needs no chart library: finished attempts per bucket by outcome, or the mean and longest wait
 * for a worker with the QUEUE_WAIT_WARN_S line. Its data attributes carry the totals it shows.
 */
export function renderHistoryChart(view: QueueHistoryView, chart: HistoryChart, warnAfterMs: number): string {
  const { buckets, width } = downsample(view.buckets);
  const unit = bucketUnit(view.bucketMs * width);
  const totals = sumOf(view.buckets);
  const waitMaxMs = Math.max(0, ...view.buckets.map((b) => b.waitMaxMs ?? 0));
  const series: Series[] =
    chart === 'throughput'
      ? [
          { name: 'completed', colour: '#2e7d32', values: buckets.map((b) => b.completed) },
          { name: 'retried', colour: '#ef6c00', values: buckets.map((b) => b.retried) },
          { name: 'failed', colour: '#c62828', values: buckets.map((b) => b.failed) },
          { name: 'parked', colour: '#6a1b9a', dashed: true, values: buckets.map((b) => b.parked) },
        ]
      : [
          { name: 'mean wait', colour: '#1565c0', values: buckets.map((b) => (b.waitAvgMs === null ? null : b.waitAvgMs / 1000)) },
          { name: 'longest wait', colour: '#64b5f6', dashed: true, values: buckets.map((b) => (b.waitMaxMs === null ? null : b.waitMaxMs / 1000)) },
        ];
  const warnS = warnAfterMs / 1000;
  const peak = Math.max(0, ...series.flatMap((s) => s.values.map((v) => v ?? 0)), chart === 'wait' ? warnS : 0);
  const top = niceCeiling(peak);
  const x = (i: number) => PAD.left + (buckets.length <= 1 ? 0 : (i / (buckets.length - 1)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => PAD.top + (1 - v / top) * (HEIGHT - PAD.top - PAD.bottom);
  const yLabel = chart === 'throughput' ? `jobs / ${unit}` : 'seconds';
  const title = chart === 'throughput' ? `${view.queue}: attempts finished per ${unit}, last ${view.range}` : `${view.queue}: wait for a worker, last ${view.range}`;
  const legend = series.map((s, i) => {
    const total = chart === 'throughput' ? ` ${formatCount(totals[s.name as keyof typeof totals])}` : '';
    return `<g transform="translate(${PAD.left + i * 150},14)"><line x1="0" y1="0" x2="18" y2="0" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/><text x="24" y="4">${escape(s.name)}${total}</text></g>`;
  });
  const warnLine =
    chart === 'wait'
      ? `<line class="warn" x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fixed(y(warnS))}" y2="${fixed(y(warnS))}" stroke="#c62828" stroke-dasharray="2 4"/><text x="${WIDTH - PAD.right}" y="${fixed(y(warnS) - 4)}" text-anchor="end" fill="#c62828">QUEUE_WAIT_WARN_S ${warnS} s</text>`
      : '';
  const attributes = {
    'data-chart': chart,
    'data-queue': view.queue,
    'data-range': view.range,
    'data-bucket-ms': String(view.bucketMs),
    'data-completed': String(totals.completed),
    'data-retried': String(totals.retried),
    'data-failed': String(totals.failed),
    'data-parked': String(totals.parked),
    'data-started': String(totals.started),
    'data-wait-max-ms': String(waitMaxMs),
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" class="history-chart" font-family="system-ui, sans-serif" font-size="11" ${Object.entries(attributes)
      .map(([name, value]) => `${name}="${escape(value)}"`)
      .join(' ')}>`,
    `<title>${escape(title)}</title>`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${WIDTH - PAD.left - PAD.right}" height="${HEIGHT - PAD.top - PAD.bottom}" fill="#fafafa" stroke="#ddd"/>`,
    ...[0, 0.5, 1].map((f) => `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${fixed(y(top * f))}" y2="${fixed(y(top * f))}" stroke="#eee"/><text x="${PAD.left - 6}" y="${fixed(y(top * f) + 4)}" text-anchor="end">${formatCount(top * f)}</text>`),
    `<text x="12" y="${PAD.top + (HEIGHT - PAD.top - PAD.bottom) / 2}" transform="rotate(-90 12 ${PAD.top + (HEIGHT - PAD.top - PAD.bottom) / 2})" text-anchor="middle">${escape(yLabel)}</text>`,
    ...timeLabels(buckets, x, view.range),
    warnLine,
    ...series.map((s) => `<path class="series" data-series="${escape(s.name)}" d="${pathOf(s.values, x, y)}" fill="none" stroke="${s.colour}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`),
    ...legend,
    '</svg>',
  ].join('');
}

/** Buckets added together in runs of `width`, so that a long range has at most MAX_POINTS points. */
function downsample(buckets: readonly HistoryBucket[]): { buckets: HistoryBucket[]; width: number } {
  const width = Math.max(1, Math.ceil(buckets.length / MAX_POINTS));
  if (width === 1) return { buckets: [...buckets], width };
  const merged: HistoryBucket[] = [];
  for (let i = 0; i < buckets.length; i += width) {
    const run = buckets.slice(i, i + width);
    const sums = sumOf(run);
    const started = run.filter((b) => b.started > 0);
    const waitTotal = started.reduce((sum, b) => sum + (b.waitAvgMs ?? 0) * b.started, 0);
    merged.push({
      start: run[0]!.start,
      ...sums,
      waitAvgMs: sums.started === 0 ? null : Math.round(waitTotal / sums.started),
      waitMaxMs: started.length === 0 ? null : Math.max(...started.map((b) => b.waitMaxMs ?? 0)),
    });
  }
  return { buckets: merged, width };
}

function sumOf(buckets: readonly HistoryBucket[]) {
  const totals = { completed: 0, retried: 0, failed: 0, parked: 0, started: 0 };
  for (const b of buckets) for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += b[key];
  return totals;
}

/** A gap (null) lifts the pen: no line is drawn through buckets where nothing started. */
function pathOf(values: ReadonlyArray<number | null>, x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let drawing = false;
  values.forEach((value, i) => {
    if (value === null) {
      drawing = false;
      return;
    }
    d += `${drawing ? 'L' : 'M'}${fixed(x(i))} ${fixed(y(value))}`;
    drawing = true;
  });
  return d;
}

function timeLabels(buckets: readonly HistoryBucket[], x: (i: number) => number, range: string): string[] {
  if (buckets.length === 0) return [];
  const days = range.endsWith('d');
  const label = (at: number) => {
    const iso = new Date(at).toISOString();
    return days ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  };
  const picks = [0, Math.floor((buckets.length - 1) / 2), buckets.length - 1];
  return picks.map((i, n) => {
    const anchor = n === 0 ? 'start' : n === 2 ? 'end' : 'middle';
    return `<text x="${fixed(x(i))}" y="${HEIGHT - 10}" text-anchor="${anchor}">${label(buckets[i]!.start)}${n === 2 ? ' UTC' : ''}</text>`;
  });
}

function bucketUnit(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes < 60) return minutes === 1 ? 'min' : `${minutes} min`;
  return `${Math.round(minutes / 60)} h`;
}

/** 1, 2 or 5 times a power of ten, at least `value` (and at least 1). */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(1);
}

function fixed(value: number): string {
  return value.toFixed(1);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
