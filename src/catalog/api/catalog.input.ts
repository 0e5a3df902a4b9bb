import { addFieldError, type FieldErrors } from '../../platform/errors/field-errors.js';
import { checkText } from '../../platform/http/validation.js';

/** Rules a JSON schema cannot say (trimming, distinct values, URLs), shared by the catalog's writes. */

/** PUT replaces every writable field; PATCH changes only the fields sent. */
export type WriteMode = 'replace' | 'merge';

export interface UrlInput {
  url: string;
  local_path: string | null;
}

export interface ThumbnailInput {
  type: string;
  width: number | null;
  height: number | null;
  urls: UrlInput[];
}

export interface RawUrl {
  url: string;
  local_path?: string | null;
}

export interface RawThumbnail {
  type: string;
  width?: number | null;
  height?: number | null;
  urls?: RawUrl[];
}

/** Laravel's ConvertEmptyStringsToNull and TrimStrings: "  " is null. */
export function optionalText(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function aliasKey(alias: string): string {
  return alias.toLowerCase();
}

/** A trimmed alias, or undefined (with an error) when it is empty. */
export function checkAlias(errors: FieldErrors, field: string, value: string): string | undefined {
  return checkText(errors, field, value, 255);
}

/** An absolute http(s) URL without credentials: the image pipeline will fetch it. */
export function checkUrl(errors: FieldErrors, field: string, value: string): string | undefined {
  const url = checkText(errors, field, value, 2048);
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    addFieldError(errors, field, `The ${field} field must be a valid URL.`);
    return undefined;
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '' || parsed.username || parsed.password) {
    addFieldError(errors, field, `The ${field} field must be a valid URL.`);
    return undefined;
  }
  return url;
}

/**
 * Aliases trimmed, empty ones dropped; a repeat (case-insensitive) is an error, so that one write
 * never silently loses a value.
 */
export function checkAliasList(errors: FieldErrors, field: string, raw: Array<{ alias: string }>): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  raw.forEach((item, i) => {
    const alias = item.alias.trim();
    if (alias === '') return;
    const key = aliasKey(alias);
    if (seen.has(key)) addFieldError(errors, `${field}.${i}.alias`, `The ${field}.${i}.alias field has a duplicate value.`);
    else {
      seen.add(key);
      out.push(alias);
    }
  });
  return out;
}

export function checkUrlList(errors: FieldErrors, field: string, raw: RawUrl[]): UrlInput[] {
  const seen = new Set<string>();
  const out: UrlInput[] = [];
  raw.forEach((item, i) => {
    const url = checkUrl(errors, `${field}.${i}.url`, item.url);
    if (url === undefined) return;
    if (seen.has(url)) addFieldError(errors, `${field}.${i}.url`, `The ${field}.${i}.url field has a duplicate value.`);
    seen.add(url);
    out.push({ url, local_path: optionalText(item.local_path) ?? null });
  });
  return out;
}

/** A nested thumbnail is a whole description: what it leaves out is null or empty. */
export function checkThumbnail(errors: FieldErrors, field: string, raw: RawThumbnail): ThumbnailInput | undefined {
  const type = checkText(errors, `${field}.type`, raw.type, 32);
  const urls = checkUrlList(errors, `${field}.urls`, raw.urls ?? []);
  return type === undefined ? undefined : { type, width: raw.width ?? null, height: raw.height ?? null, urls };
}

/** Several thumbnails may share a type, as the seed allowed (see `replaceThumbnails`). */
export function checkThumbnailList(errors: FieldErrors, field: string, raw: RawThumbnail[]): ThumbnailInput[] {
  const out: ThumbnailInput[] = [];
  raw.forEach((item, i) => {
    const thumbnail = checkThumbnail(errors, `${field}.${i}`, item);
    if (thumbnail) out.push(thumbnail);
  });
  return out;
}
