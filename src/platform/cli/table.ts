export type Cell = string | number | boolean | null | undefined;

export interface Column<K extends string = string> {
  key: K;
  /** The header; the key when absent. */
  header?: string;
  align?: 'left' | 'right';
  /** Dropped, highest first, when the table would not fit otherwise; columns without it always stay. */
  dropOrder?: number;
  /** Gives up width first (long text: errors, payloads), down to `minWidth`. */
  flexible?: boolean;
  minWidth?: number;
}

const GAP = 2;
const ELLIPSIS = '…';

/**
 * A plain table no wider than `width`: optional columns are dropped, then long cells are cut with
 * "…" (flexible columns first). Cells are shown on one line each.
 */
export function formatTable<K extends string>(rows: readonly Partial<Record<K, Cell>>[], columns: readonly Column<K>[], width: number): string {
  const text = rows.map((row) => columns.map((c) => cellText(row[c.key])));
  const natural = columns.map((c, i) => Math.max(headerOf(c).length, ...text.map((cells) => cells[i]!.length)));
  const shown = columns.map((_, i) => i);
  const widths = [...natural];
  const total = () => shown.reduce((sum, i) => sum + widths[i]!, 0) + GAP * (shown.length - 1);
  const floor = (i: number) => Math.min(natural[i]!, columns[i]!.flexible ? (columns[i]!.minWidth ?? 10) : natural[i]!);

  const tightest = () => shown.reduce((sum, i) => sum + floor(i), 0) + GAP * (shown.length - 1);
  while (tightest() > width) {
    const droppable = shown.filter((i) => columns[i]!.dropOrder !== undefined).sort((a, b) => columns[b]!.dropOrder! - columns[a]!.dropOrder!);
    if (droppable.length === 0) break;
    shown.splice(shown.indexOf(droppable[0]!), 1);
  }
  shrink(shown.filter((i) => columns[i]!.flexible), widths, floor, () => total() - width);
  // Still too wide for a very narrow terminal: every column gives up width, the widest first.
  shrink(shown, widths, () => 3, () => total() - width);

  const line = (cells: string[]) => shown.map((i) => fit(cells[i]!, widths[i]!, columns[i]!.align ?? 'left')).join(' '.repeat(GAP)).trimEnd();
  return [line(columns.map(headerOf)), ...text.map(line)].join('\n');
}

/** `field  value` lines for one record, e.g. a run's summary. */
export function formatRecord(record: Record<string, Cell>, width: number): string {
  const rows = Object.entries(record).map(([field, value]) => ({ field, value }));
  return formatTable(rows, [{ key: 'field' }, { key: 'value', flexible: true }], width);
}

function shrink(candidates: number[], widths: number[], floor: (i: number) => number, excess: () => number): void {
  while (excess() > 0) {
    const widest = candidates.filter((i) => widths[i]! > floor(i)).sort((a, b) => widths[b]! - widths[a]!)[0];
    if (widest === undefined) return;
    widths[widest] = widths[widest]! - 1;
  }
}

function headerOf(column: Column): string {
  return column.header ?? column.key;
}

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/\s+/g, ' ').trim();
}

function fit(text: string, width: number, align: 'left' | 'right'): string {
  const cut = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}${ELLIPSIS}` : text;
  return align === 'right' ? cut.padStart(width) : cut.padEnd(width);
}
