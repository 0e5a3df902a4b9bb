import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint, sha256Hex } from '../../src/platform/canonical-json.js';
import { JsonDepthError, MAX_JSON_DEPTH } from '../../src/platform/json-depth.js';

/** The same value with the keys of every object in reverse order. */
function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (value === null || typeof value !== 'object') return value;
  // No prototype, so that a "__proto__" key (JSON.parse makes it an own property) stays a key.
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value).reverse()) out[key] = reorderKeys((value as Record<string, unknown>)[key]);
  return out;
}

describe('canonical JSON', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it(`writes a value nested ${MAX_JSON_DEPTH} levels, and refuses a deeper one instead of overflowing the stack`, () => {
    const nested = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels - 1)}[]${'}'.repeat(levels - 1)}`) as unknown;
    expect(canonicalJson(nested(MAX_JSON_DEPTH))).toHaveLength(JSON.stringify(nested(MAX_JSON_DEPTH)).length);
    expect(() => canonicalJson(nested(MAX_JSON_DEPTH + 1))).toThrow(JsonDepthError);
    expect(() => fingerprint(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))).toThrow(JsonDepthError);
  });

  it('keeps array order, because order in an array is meaningful', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('drops undefined properties and writes undefined array slots as null, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('escapes keys and strings as JSON does', () => {
    expect(canonicalJson({ 'quote"key': 'line\nbreak', '€': '😀' })).toBe('{"quote\\"key":"line\\nbreak","€":"😀"}');
  });

  it('gives the same fingerprint whatever the key order', () => {
    const a = { client: { identity: 'A', contact_point: 'B' }, contents: [{ label: 'x', cost: 1, meta: { priority: 'high', tags: ['a'] } }] };
    const b = { contents: [{ meta: { tags: ['a'], priority: 'high' }, cost: 1, label: 'x' }], client: { contact_point: 'B', identity: 'A' } };
    expect(fingerprint(a)).toBe(fingerprint(b));
    expect(fingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives different fingerprints for different values', () => {
    expect(fingerprint({ cost: 1 })).not.toBe(fingerprint({ cost: '1' }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });

  it('keeps a "__proto__" key that JSON.parse made an own property', () => {
    const parsed = JSON.parse('{"b":1,"__proto__":{"x":1}}') as unknown;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"x":1},"b":1}');
    expect(canonicalJson(reorderKeys(parsed))).toBe(canonicalJson(parsed));
  });

  it('is the sha256 of the canonical text', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(fingerprint({ b: 1, a: 2 })).toBe(sha256Hex('{"a":2,"b":1}'));
  });

  it('never depends on key order, and parses back to an equal value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(reorderKeys(value))).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });
});
