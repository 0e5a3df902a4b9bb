import { describe, expect, it } from 'vitest';
import { JsonTextRepairer, sanitizeItemText, type RepairKind } from '../../../src/catalog/feed/sanitize.js';

/** Repairs the text, parses it and returns the parsed value with the repairs. */
function repair(text: string): { value: unknown; repairs: Record<string, number> } {
  expect(() => JSON.parse(text)).toThrow();
  const result = sanitizeItemText(text);
  return { value: JSON.parse(result.text), repairs: Object.fromEntries(result.repairs.map((r) => [r.kind, r.count])) };
}

/** The repairer's output when the text arrives in the given pieces. */
function repairInPieces(pieces: string[]): { text: string; counts: Partial<Record<RepairKind, number>> } {
  let text = '';
  const counts: Partial<Record<RepairKind, number>> = {};
  const repairer = new JsonTextRepairer((piece, kind, count = 1) => {
    text += piece;
    if (kind) counts[kind] = (counts[kind] ?? 0) + count;
  });
  for (const piece of pieces) repairer.write(piece);
  repairer.end();
  return { text, counts };
}

describe('sanitizeItemText: \\xNN escapes as UTF-8 bytes', () => {
  it('decodes a 4-byte sequence into one character', () => {
    const { value, repairs } = repair(String.raw`{"name":"smile \xF0\x9F\x98\x80!"}`);
    expect(value).toEqual({ name: 'smile 😀!' });
    expect(repairs).toEqual({ hexEscape: 4 });
  });

  it('decodes 2-byte and 3-byte sequences, in either case of hex digit', () => {
    expect(repair(String.raw`{"name":"Zo\xC3\xABe"}`).value).toEqual({ name: 'Zoëe' });
    expect(repair(String.raw`{"price":"5 \xe2\x82\xac"}`).value).toEqual({ price: '5 €' });
  });

  it('decodes consecutive characters as one run', () => {
    expect(repair(String.raw`{"a":"\xC3\xA9\xE2\x82\xAC\x41"}`).value).toEqual({ a: 'é€A' });
  });

  it('replaces bytes that are not valid UTF-8 with U+FFFD, and counts them', () => {
    const { value, repairs } = repair(String.raw`{"a":"x\xFFy"}`);
    expect(value).toEqual({ a: 'x\uFFFDy' });
    expect(repairs).toEqual({ hexEscape: 1, invalidUtf8: 1 });
    expect(repair(String.raw`{"a":"\xC3\x28"}`).value).toEqual({ a: '\uFFFD(' });
    expect(repair(String.raw`{"a":"\x80\x80"}`).value).toEqual({ a: '\uFFFD\uFFFD' });
  });

  it('replaces an incomplete sequence at the end of a string, such as a lone \\xC3', () => {
    const { value, repairs } = repair(String.raw`{"a":"abc\xC3","b":"\xF0\x9F\x98"}`);
    expect(value).toEqual({ a: 'abc\uFFFD', b: '\uFFFD' });
    expect(repairs).toEqual({ hexEscape: 4, invalidUtf8: 2 });
  });

  it('replaces a \\x without two hex digits, keeping what follows', () => {
    expect(repair(String.raw`{"a":"\xZ1","b":"\x4","c":"\x"}`).value).toEqual({ a: '\uFFFDZ1', b: '\uFFFD', c: '\uFFFD' });
  });

  it('writes decoded quotes, backslashes and control characters as JSON escapes', () => {
    expect(repair(String.raw`{"a":"say \x22hi\x22 \x5C \x0A\x09end"}`).value).toEqual({ a: 'say "hi" \\ \n\tend' });
  });

  it('leaves an escaped backslash followed by x41 alone', () => {
    expect(repair(String.raw`{"a":"\\x41 \x41","b":"\\\x41"}`).value).toEqual({ a: '\\x41 A', b: '\\A' });
  });

  it('keeps the valid escapes next to a run', () => {
    expect(repair(String.raw`{"a":"\xC3\xA9\n\u00e9\"\/\\"}`).value).toEqual({ a: 'é\né"/\\' });
  });

  it('touches \\x only inside strings', () => {
    const result = sanitizeItemText(String.raw`{"a":1,\x41:"\x41"}`);
    expect(result.text).toBe(String.raw`{"a":1,\x41:"A"}`);
  });

  it('returns text without a known defect unchanged, with no repairs', () => {
    const text = '{"a":"ok","b":[1,2],"c":"\\u00e9\\\\x41"}';
    expect(sanitizeItemText(text)).toEqual({ text, repairs: [] });
    const broken = '{"a":1,,}';
    expect(sanitizeItemText(broken)).toEqual({ text: broken, repairs: [] });
  });
});

describe('sanitizeItemText: a missing comma between arrays', () => {
  it('inserts the comma between two arrays inside an array', () => {
    const { value, repairs } = repair('{"a":[["x"]["y"], ["z"] ["w"]]}');
    expect(value).toEqual({ a: [['x'], ['y'], ['z'], ['w']] });
    expect(repairs).toEqual({ missingComma: 2 });
  });

  it('repairs "][" in a top-level array', () => {
    expect(sanitizeItemText('[["a"]["b"]]').text).toBe('[["a"],["b"]]');
  });

  it('does not insert a comma where it would not make the item parse', () => {
    expect(sanitizeItemText('["a"]["b"]').repairs).toEqual([]);
    expect(sanitizeItemText('{"a":["x"]["y"]}').repairs).toEqual([]);
    expect(sanitizeItemText('{"a":{"b":1}["y"]}').repairs).toEqual([]);
  });

  it('leaves "][" inside a string alone', () => {
    const result = sanitizeItemText(String.raw`{"a":"]["," b":[["x"]["y"]],"c":"\x41"}`);
    expect(JSON.parse(result.text)).toEqual({ a: '][', ' b': [['x'], ['y']], c: 'A' });
  });
});

describe('sanitizeItemText: raw control characters', () => {
  it('escapes a raw control character inside a string, not between tokens', () => {
    const { value, repairs } = repair('{"a":"tab\there",\n"b":"line\nbreak"}');
    expect(value).toEqual({ a: 'tab\there', b: 'line\nbreak' });
    expect(repairs).toEqual({ controlChar: 2 });
  });
});

describe('JsonTextRepairer in a stream', () => {
  const text = String.raw`{"a":"x\xF0\x9F\x98\x80y\\x41\n","b":[["p"]["q"]],"c":"\xC3","d":"\xZ","e":"\\\\"}`;
  const whole = repairInPieces([text]);

  it('repairs a whole text written at once', () => {
    expect(JSON.parse(whole.text)).toEqual({ a: 'x😀y\\x41\n', b: [['p'], ['q']], c: '\uFFFD', d: '\uFFFDZ', e: '\\\\' });
    expect(whole.counts).toEqual({ hexEscape: 6, invalidUtf8: 2, missingComma: 1 });
  });

  it('gives the same text and counts wherever the chunks are cut', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      expect(repairInPieces([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toEqual(whole);
    }
    expect(repairInPieces([...text])).toEqual(whole);
  });

  it('holds a trailing backslash until the end', () => {
    expect(repairInPieces(['"a\\', '"', '"']).text).toBe('"a\\""');
    expect(repairInPieces(['"a\\']).text).toBe('"a\\');
  });
});
