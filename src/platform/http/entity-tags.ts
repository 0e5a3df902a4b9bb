import { hash } from 'node:crypto';

/** A strong entity tag for a response body: its SHA-256, quoted. */
export function entityTagOf(body: string): string {
  return `"${hash('sha256', body, 'base64url').slice(0, 27)}"`;
}

/** The tags of an `If-None-Match` or `If-Match` header; `*` stays `*`. */
function tagsOf(header: string): string[] {
  return header
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
}

/** `If-None-Match` (RFC 9110 §13.1.2): weak comparison, so `W/"x"` matches `"x"`. */
export function noneMatch(header: string | undefined, tag: string): boolean {
  if (header === undefined) return true;
  const bare = (t: string) => (t.startsWith('W/') ? t.slice(2) : t);
  return !tagsOf(header).some((candidate) => candidate === '*' || bare(candidate) === bare(tag));
}

/** `If-Match` (RFC 9110 §13.1.1): strong comparison; a weak tag never matches. */
export function ifMatches(header: string, tag: string): boolean {
  return tagsOf(header).some((candidate) => candidate === '*' || candidate === tag);
}

/** `Last-Modified` for a time, to the second, as HTTP dates are. */
export function httpDate(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toUTCString();
}

/** An `If-Modified-Since` date in epoch ms; undefined when absent or unreadable (then ignored, as RFC 9110 says). */
export function parseHttpDate(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const ms = Date.parse(header);
  return Number.isNaN(ms) ? undefined : ms;
}
