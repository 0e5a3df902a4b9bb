import { randomInt, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../platform/canonical-json.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A 40-character random secret, as Sanctum issues. */
export function generateSecret(): string {
  let secret = '';
  for (let i = 0; i < 40; i++) secret += ALPHABET[randomInt(ALPHABET.length)];
  return secret;
}

export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}

/** `"<id>|<secret>"`, the form a client receives. */
export function formatToken(id: number, secret: string): string {
  return `${id}|${secret}`;
}

/** Splits a bearer token; the `<id>|` part is optional, and an id is written as issued (no leading zero). */
export function parseToken(bearer: string): { id: number | null; secret: string } | null {
  const bar = bearer.indexOf('|');
  if (bar === -1) return bearer.length > 0 ? { id: null, secret: bearer } : null;
  const idText = bearer.slice(0, bar);
  const secret = bearer.slice(bar + 1);
  if (!/^[1-9]\d{0,14}$/.test(idText) || secret.length === 0) return null;
  return { id: Number(idText), secret };
}

export function hashesMatch(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
