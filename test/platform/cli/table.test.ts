import { describe, expect, it } from 'vitest';
import { formatRecord, formatTable, type Column } from '../../../src/platform/cli/table.js';

describe('formatTable', () => {
  const columns: Column[] = [{ key: 'id', align: 'right' }, { key: 'status' }, { key: 'extra', dropOrder: 1 }, { key: 'error', flexible: true, minWidth: 8 }];
  const rows = [
    { id: 1, status: 'failed', extra: 'x'.repeat(30), error: 'the feed could not be read:\nconnection reset by peer while reading the body' },
    { id: 12, status: 'succeeded', extra: 'y', error: null },
  ];

  it('aligns columns under their headers when everything fits', () => {
    expect(formatTable([{ id: 1, status: 'ok' }, { id: 10, status: 'failed' }], [{ key: 'id', align: 'right' }, { key: 'status' }], 100)).toBe(['id  status', ' 1  ok', '10  failed'].join('\n'));
  });

  it('cuts the flexible column with … first, keeping every column while that is enough', () => {
    const table = formatTable(rows, columns, 70);
    const lines = table.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(70);
    expect(lines[0]).toMatch(/^id\s+status\s+extra\s+error$/);
    expect(lines[1]).toMatch(/ {2}the feed could not be …$/);
    expect(lines[2]).toMatch(/^12 {2}succeeded {2}y$/);
  });

  it('drops optional columns when cutting is not enough', () => {
    const lines = formatTable(rows, columns, 30).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(30);
    expect(lines[0]).toMatch(/^id\s+status\s+error$/);
  });

  it('still fits a terminal narrower than every column', () => {
    for (const line of formatTable(rows, columns, 12).split('\n')) expect(line.length).toBeLessThanOrEqual(12);
  });

  it('shows a record as field and value lines', () => {
    expect(formatRecord({ run: 3, status: 'failed', error: null }, 100)).toBe(['field   value', 'run     3', 'status  failed', 'error'].join('\n'));
  });
});
