/** The feed benchmark's rows, their checks, their markdown table and the banner for invalid runs. */
import type { FeedRun } from './feed-db.js';
import { exitProblem, type Exit } from './feed-processes.js';

export interface Metric {
  name: string;
  /** The raw number (or text) as measured; null when it could not be measured. */
  value: number | string | null;
  unit: string;
  /** How the value is printed. */
  display: string;
  target?: string;
  /** Undefined when the metric has no target. */
  met?: boolean;
}

export interface RowResult {
  row: number;
  name: string;
  description: string;
  metrics: Metric[];
  /** Anything that makes the row's numbers invalid: errors, non-2xx, failed runs. */
  problems: string[];
  /** Set when the row did not run. */
  skipped?: string;
  details: Record<string, unknown>;
}

export function newRow(n: number, name: string, description: string): RowResult {
  return { row: n, name, description, metrics: [], problems: [], details: {} };
}

export const mb = (bytes: number | null) => (bytes === null ? null : bytes / 2 ** 20);
export const runSeconds = (run: FeedRun | undefined) => (run?.finished_at ? (run.finished_at - run.started_at) / 1000 : null);

/** Problems of an ingestion that should have read the whole feed with no invalid item; keeps the exit and the run in the details. */
export function verifyIngest(row: RowResult, name: string, exit: Exit, run: FeedRun | undefined, statuses: string[], items: number): void {
  const failed = exitProblem(name, exit);
  if (failed) row.problems.push(failed);
  const { output: _output, ...rest } = exit;
  row.details = { ...row.details, process: rest, run };
  if (!run) return void row.problems.push('no feed run was recorded');
  if (!statuses.includes(run.status)) row.problems.push(`the run ended ${run.status}${run.error ? `: ${run.error}` : ''} (expected ${statuses.join(' or ')})`);
  if (run.items_seen !== items) row.problems.push(`the run saw ${run.items_seen} items of ${items}`);
  if (run.invalid_count > 0) row.problems.push(`${run.invalid_count} items were invalid`);
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A measured number; `target` compares it (`max`: at most, `min`: at least, `equals`). */
export function metric(name: string, value: number | null, unit: string, digits = 0, target?: { max?: number; min?: number; equals?: number; text?: string }): Metric {
  const display = value === null ? 'n/a' : `${fmt(value, digits)}${unit ? ` ${unit}` : ''}`;
  if (!target) return { name, value, unit, display };
  const [text, ok] =
    target.max !== undefined
      ? [`≤ ${fmt(target.max)} ${unit}`, (v: number) => v <= target.max!]
      : target.min !== undefined
        ? [`≥ ${fmt(target.min)} ${unit}`, (v: number) => v >= target.min!]
        : [`= ${fmt(target.equals ?? 0)} ${unit}`, (v: number) => v === target.equals];
  return { name, value, unit, display, target: target.text ?? text.trim(), met: value === null ? false : ok(value) };
}

/** A yes/no fact with its expected answer. */
export function check(name: string, value: boolean, expected = true): Metric {
  return { name, value: value ? 'yes' : 'no', unit: '', display: value ? 'yes' : 'no', target: expected ? 'yes' : 'no', met: value === expected };
}

export function note(name: string, text: string): Metric {
  return { name, value: text, unit: '', display: text };
}

export function table(rows: RowResult[]): string {
  const lines = ['| # | scenario | measure | value | target | |', '|---:|---|---|---:|---:|:---:|'];
  for (const row of rows) {
    const flag = row.problems.length > 0 ? ' ⚠' : '';
    if (row.skipped) {
      lines.push(`| ${row.row} | ${row.name}${flag} | skipped: ${row.skipped} | | | |`);
      continue;
    }
    row.metrics.forEach((m, i) => {
      const mark = m.met === undefined ? '' : m.met ? '✅' : '❌';
      lines.push(`| ${i === 0 ? row.row : ''} | ${i === 0 ? `${row.name}${flag}` : ''} | ${m.name} | ${m.display} | ${m.target ?? ''} | ${mark} |`);
    });
  }
  return lines.join('\n');
}

/** Targets missed, one line each, for the summary under the table. */
export function missedTargets(rows: RowResult[]): string[] {
  return rows.flatMap((row) => row.metrics.filter((m) => m.met === false).map((m) => `row ${row.row} (${row.name}): ${m.name} ${m.display}, target ${m.target}`));
}

/** Prints the loud banner when any row has problems; returns whether it did. */
export function printBanner(rows: RowResult[], write: (text: string) => void): boolean {
  const failed = rows.filter((r) => r.problems.length > 0);
  if (failed.length === 0) return false;
  const banner = '!'.repeat(78);
  write(`\n${banner}\n!! THESE NUMBERS ARE NOT VALID: something failed. Fix the errors before reading the table.\n`);
  for (const r of failed) for (const problem of r.problems) write(`!!   row ${r.row} (${r.name}): ${problem}\n`);
  write(`${banner}\n`);
  return true;
}
