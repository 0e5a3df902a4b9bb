import { hash } from 'node:crypto';
import { JsonDepthError, MAX_JSON_DEPTH } from './json-depth.js';

/**
 * JSON with object keys sorted at every depth, so that key order never changes the text. It
 * recurses, so it refuses (JsonDepthError) a value nested deeper than `maxDepth`, as request
 * bodies never are.
 */
export function canonicalJson(value: unknown, maxDepth = MAX_JSON_DEPTH): string {
  return write(value, 0, maxDepth);
}

function write(value: unknown, depth: number, maxDepth: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (depth >= maxDepth) throw new JsonDepthError(maxDepth);
  // One pass with string appends: it runs twice on every order, and the map/filter/join form
  // allocated four arrays per object.
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const item: unknown = value[i];
      out += item === undefined ? 'null' : write(item, depth + 1, maxDepth);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  out = '{';
  let first = true;
  for (const key of keys) {
    const field = record[key];
    if (field === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${write(field, depth + 1, maxDepth)}`;
  }
  return `${out}}`;
}

export function sha256Hex(text: string): string {
  // One-shot: a third of createHash's cost, on every order and token check.
  return hash('sha256', text, 'hex');
}

export function fingerprint(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
