import { createHash } from 'node:crypto';
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
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : write(v, depth + 1, maxDepth))).join(',')}]`;
  const entries = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${write((value as Record<string, unknown>)[k], depth + 1, maxDepth)}`);
  return `{${entries.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function fingerprint(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
