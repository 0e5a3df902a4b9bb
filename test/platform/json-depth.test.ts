import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, textNestingExceeds, valueNestingExceeds } from '../../src/platform/json-depth.js';

/** The nesting depth of a parsed value, by plain recursion (fine for the small values generated here). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('JSON nesting depth', () => {
  it('counts arrays and objects in the raw text, up to the bound and past it', () => {
    expect(textNestingExceeds(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(textNestingExceeds(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(textNestingExceeds('{"a":{"b":[1,{"c":2}]},"d":[]}', 4)).toBe(false);
    expect(textNestingExceeds('{"a":{"b":[1,{"c":2}]},"d":[]}', 3)).toBe(true);
    expect(textNestingExceeds('1', 0)).toBe(false);
  });

  it('skips brackets inside strings, escaped quotes included', () => {
    expect(textNestingExceeds(`["${'[{'.repeat(100)}"]`, 1)).toBe(false);
    expect(textNestingExceeds('["a\\"[[[[", "\\\\", [1]]', 2)).toBe(false);
    expect(textNestingExceeds('["a\\"[[[[", "\\\\", [[1]]]', 2)).toBe(true);
    expect(textNestingExceeds('{"k\\\\":[[]]}', 2)).toBe(true);
  });

  it('stops at the bound: a megabyte of nesting costs nothing', () => {
    const megabyte = nested(500_000);
    const started = performance.now();
    expect(textNestingExceeds(megabyte, MAX_JSON_DEPTH)).toBe(true);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('agrees with the depth of the parsed value on any JSON (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.nat(9), (value, max) => {
        const text = JSON.stringify(value);
        const deeper = depthOf(value) > max;
        expect(textNestingExceeds(text, max)).toBe(deeper);
        expect(valueNestingExceeds(value, max)).toBe(deeper);
      }),
    );
  });

  it('measures a parsed value without recursion, however deep', () => {
    const deep = JSON.parse(nested(200_000)) as unknown;
    expect(valueNestingExceeds(deep, MAX_JSON_DEPTH)).toBe(true);
    expect(valueNestingExceeds({ a: [1, { b: null }] }, 3)).toBe(false);
    expect(valueNestingExceeds('text', 0)).toBe(false);
  });
});
