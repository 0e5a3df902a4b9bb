import fc from 'fast-check';
import { encodeItem, toByteEscapes, type FeedItem } from '../../dev/catalog/feed-generator.js';
import { createRandom } from '../../dev/catalog/prng.js';

/**
 * Valid JSON layouts of one feed, drawn at random: whatever the layout, `JSON.parse` gives the same
 * items, and so must intake.
 */
export interface FeedLayout {
  /** Drives the choices below that are made per item or per gap. */
  seed: number;
  keyOrder: Array<'site' | 'generationDate' | 'items' | 'itemsCount' | 'extra'>;
  /** How each item is written: on one line, pretty-printed, with whitespace between any tokens, or any of these per item. */
  items: 'line' | 'pretty' | 'tokens' | 'mixed';
  /** Where the separator between two items goes. */
  separators: 'end-of-line' | 'start-of-line' | 'live' | 'same-line' | 'mixed';
  /** Everything on one line, without whitespace. */
  minified: boolean;
  /** PHP's `json_encode` escapes (`\/`, `\uXXXX`), as in the live feed. */
  phpEscapes: boolean;
  crlf: boolean;
  bom: boolean;
  finalNewline: boolean;
}

export const feedLayouts: fc.Arbitrary<FeedLayout> = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  keyOrder: fc
    .subarray(['itemsCount', 'extra'] as const)
    .chain((optional) => {
      const keys = ['site', 'generationDate', 'items', ...optional] as const;
      return fc.shuffledSubarray([...keys], { minLength: keys.length });
    }),
  items: fc.constantFrom('line', 'pretty', 'tokens', 'mixed'),
  separators: fc.constantFrom('end-of-line', 'start-of-line', 'live', 'same-line', 'mixed'),
  minified: fc.boolean(),
  phpEscapes: fc.boolean(),
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
});

export interface FeedEnvelope {
  site: string;
  generationDate: string;
  items: unknown[];
}

const TOKEN_SPACES = ['', ' ', '\n', '\t', '\n\t\t', '  ', ' \n '];
const GAPS = [',\n', '\n,', ',', ' , ', '\n,\n', ',\n\n', '\t,\t\n'];
/** A field the feed does not use, holding text that looks like structure. */
const EXTRA = { note: 'a "quoted" ] and } and , inside', nested: [[1, 2], { items: [] }], escapes: '\\"\u2028' };

/** The feed written in the layout; `JSON.parse` of it (without the BOM) gives `envelope` back. */
export function layOutFeed(envelope: FeedEnvelope, layout: FeedLayout): string {
  const random = createRandom(layout.seed);
  const encode = (value: unknown): string => (layout.phpEscapes && isObject(value) ? encodeItem(value as unknown as FeedItem) : JSON.stringify(value));
  const itemText = (item: unknown): string => {
    if (layout.minified) return encode(item);
    const style = layout.items === 'mixed' ? random.pick(['line', 'pretty', 'tokens'] as const) : layout.items;
    if (style === 'line') return encode(item);
    if (style === 'pretty') return JSON.stringify(item, null, random.pick([1, 2, '\t']));
    return withSpaces(item, () => random.pick(TOKEN_SPACES), layout.phpEscapes);
  };
  const gap = (index: number): string => {
    if (layout.minified) return ',';
    switch (layout.separators) {
      case 'end-of-line':
        return ',\n\t\t';
      case 'start-of-line':
        return '\n\t\t,';
      case 'live':
        return index % 7 === 6 ? '\n\t\t,' : ',\n\t\t';
      case 'same-line':
        return random.chance(0.8) ? random.pick([',', ', ']) : ',\n';
      case 'mixed':
        return random.pick(GAPS);
    }
  };
  const items = envelope.items.map((item, i) => (i === 0 ? '' : gap(i)) + itemText(item)).join('');
  const eol = layout.minified ? '' : '\n';
  const values = {
    site: JSON.stringify(envelope.site),
    generationDate: JSON.stringify(envelope.generationDate),
    itemsCount: String(envelope.items.length),
    extra: JSON.stringify(EXTRA),
    items: `[${eol}${layout.minified ? '' : '\t\t'}${items}${eol}${layout.minified ? '' : '\t\t'}]`,
  };
  const members = layout.keyOrder.map((key) => `${layout.minified ? '' : '\t'}"${key}":${layout.minified ? '' : ' '}${values[key]}`);
  let text = `{${eol}${members.join(`,${eol}`)}${eol}}${layout.finalNewline ? '\n' : ''}`;
  if (layout.crlf) text = text.replaceAll('\n', '\r\n');
  return layout.bom ? `\uFEFF${text}` : text;
}

/** The value written with `space()` between any two tokens. */
function withSpaces(value: unknown, space: () => string, phpEscapes: boolean): string {
  const scalar = (v: unknown) => {
    const json = JSON.stringify(v);
    return phpEscapes && typeof v === 'string' ? json.replaceAll('/', '\\/') : json;
  };
  if (Array.isArray(value)) return `[${space()}${value.map((v) => withSpaces(v, space, phpEscapes)).join(`${space()},${space()}`)}${space()}]`;
  if (isObject(value)) {
    const members = Object.entries(value).map(([key, v]) => `${scalar(key)}${space()}:${space()}${withSpaces(v, space, phpEscapes)}`);
    return `{${space()}${members.join(`${space()},${space()}`)}${space()}}`;
  }
  return scalar(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the live feed does to an item's line: repairable (`escape`, `missing-comma`) or beyond repair. */
export type LineDefect = 'escape' | 'missing-comma' | 'truncated' | 'unescaped-quote' | 'garbage';

export interface DefectiveFeed {
  text: string;
  /** The items intake must yield: every item but the broken ones, as they were. */
  expected: unknown[];
  broken: number;
  /** Items written with a repairable defect that changed their text. */
  repaired: number;
}

/**
 * The items in a mixed layout (one per line mostly, some pretty-printed or several on a line,
 * separators at either end of a line), with defects on some lines. A broken item stands on lines
 * of its own, as it does in the live feed.
 */
export function layOutDefectiveFeed(items: FeedItem[], defects: Array<LineDefect | null>, seed: number): DefectiveFeed {
  const random = createRandom(seed);
  const expected: unknown[] = [];
  let broken = 0;
  let repaired = 0;
  let text = '{\n\t"site": "https://example.test",\n\t"generationDate": "2026-12-03T02:00:00Z",\n\t"items": [\n\t\t';
  items.forEach((item, i) => {
    const defect = defects[i] ?? null;
    const alone = defect !== null && defect !== 'escape' && defect !== 'missing-comma';
    const previousAlone = i > 0 && !!defects[i - 1] && defects[i - 1] !== 'escape' && defects[i - 1] !== 'missing-comma';
    if (i > 0) text += alone || previousAlone ? random.pick([',\n\t\t', '\n\t\t,']) : random.pick(GAPS);
    const line = defectiveText(item, defect, random);
    text += line ?? (random.chance(0.15) ? JSON.stringify(item, null, 2) : encodeItem(item));
    if (alone) broken++;
    else expected.push(item);
    if ((defect === 'escape' || defect === 'missing-comma') && line !== encodeItem(item)) repaired++;
  });
  text += `\n\t\t],\n\t"itemsCount": ${items.length}\n}\n`;
  return { text, expected, broken, repaired };
}

function defectiveText(item: FeedItem, defect: LineDefect | null, random: ReturnType<typeof createRandom>): string | null {
  const line = encodeItem(item);
  switch (defect) {
    case null:
      return null;
    case 'escape':
      return toByteEscapes(line, random.chance(0.5));
    case 'missing-comma': {
      const aliases = line.indexOf('"aliases":[');
      const comma = aliases < 0 ? -1 : line.indexOf('","', aliases);
      return comma < 0 || comma > line.indexOf(']', aliases) ? line : `${line.slice(0, comma)}"]["${line.slice(comma + 3)}`;
    }
    case 'truncated':
      return line.slice(0, Math.floor(line.length * (0.3 + 0.5 * random.next())));
    case 'unescaped-quote': {
      const at = line.indexOf('"name":"') + 8;
      return `${line.slice(0, at)}"${line.slice(at)}`;
    }
    case 'garbage':
      return `<br /><b>Notice</b>:  Undefined index: age in <b>/var/www/export.php</b><br />${line}`;
  }
}
