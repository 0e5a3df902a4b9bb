/**
 * One item's text to its value: `JSON.parse` as it is, and only when that fails, once more after
 * repair of the real feed's known defects.
 */
import { sample } from './feed-events.js';
import { sanitizeItemText, type Repair } from './sanitize.js';

export type ItemText = { ok: true; value: unknown; repairs?: Repair[] } | { ok: false; reason: string };

/** One item's text: `JSON.parse` as it is, then once more after repair. */
export function parseItemText(text: string): ItemText {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const repaired = sanitizeItemText(text);
    let failure = messageOf(error);
    if (repaired.repairs.length > 0) {
      try {
        return { ok: true, value: JSON.parse(repaired.text), repairs: repaired.repairs };
      } catch (again) {
        failure = `${messageOf(again)} (after repair: ${describe(repaired.repairs)})`;
      }
    }
    return parseWithMergedArrays(repaired.text, repaired.repairs) ?? { ok: false, reason: sample(failure) };
  }
}

/**
 * The other form of the missing comma between arrays: one array split in two, `["a"]["b"]`.
 * Joining them back (`["a","b"]`) is kept only when the item then parses.
 */
function parseWithMergedArrays(text: string, repairs: Repair[]): ItemText | undefined {
  let joins = 0;
  const merged = text.replace(/"\]\s*\["/g, () => {
    joins++;
    return '","';
  });
  if (joins === 0) return undefined;
  try {
    const others = repairs.filter((r) => r.kind !== 'missingComma');
    const commas = joins + (repairs.find((r) => r.kind === 'missingComma')?.count ?? 0);
    return { ok: true, value: JSON.parse(merged), repairs: [...others, { kind: 'missingComma', count: commas }] };
  } catch {
    return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(repairs: readonly Repair[]): string {
  return repairs.map(({ kind, count }) => `${kind} ×${count}`).join(', ');
}
