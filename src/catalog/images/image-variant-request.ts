import type { ImageVariantFormat } from '../../config.js';
import { addFieldError, type FieldErrors } from '../../platform/errors/field-errors.js';

export const VARIANT_CONTENT_TYPES: Record<ImageVariantFormat, string> = { avif: 'image/avif', webp: 'image/webp', jpeg: 'image/jpeg' };

/** IMAGE_VARIANT_WIDTHS and IMAGE_VARIANT_FORMATS. */
export interface VariantSettings {
  widths: readonly number[];
  formats: readonly ImageVariantFormat[];
}

export interface VariantRequest {
  width: number;
  format: ImageVariantFormat;
  /** The format came from `Accept` (no `format` parameter): the answer varies with it. */
  negotiated: boolean;
}

/** What `?w=&format=` asks of an image: the original (no parameter), a variant, or a 422's errors. */
export type VariantQuery = { kind: 'original' } | { kind: 'variant'; variant: VariantRequest } | { kind: 'invalid'; errors: FieldErrors };

const ORIGINAL: VariantQuery = { kind: 'original' };

/**
 * Reads `w` and `format`. Only the listed widths and enabled formats are made: this is no open
 * resizer. `format` needs `w` (a re-encoding at full size is not offered); either given twice is
 * refused. Other parameters are ignored, as a static file server ignores them: clients and CDNs
 * add cache-busting and tracking parameters to URLs of immutable files.
 */
export function parseVariantQuery(query: Record<string, unknown> | undefined, accept: string | undefined, settings: VariantSettings): VariantQuery {
  const errors: FieldErrors = {};
  const w = query?.w;
  const format = query?.format;
  if (w === undefined && format === undefined) return ORIGINAL;

  const width = typeof w === 'string' && /^[1-9][0-9]{0,4}$/.test(w) ? Number(w) : undefined;
  if (w === undefined) {
    if (format !== undefined) addFieldError(errors, 'w', 'The w field is required with format.');
  } else if (Array.isArray(w)) addFieldError(errors, 'w', 'The w field must be given once.');
  else if (width === undefined || !settings.widths.includes(width)) addFieldError(errors, 'w', `The w field must be one of ${settings.widths.join(', ')}.`);

  if (Array.isArray(format)) addFieldError(errors, 'format', 'The format field must be given once.');
  else if (format !== undefined && !settings.formats.includes(format as ImageVariantFormat)) {
    addFieldError(errors, 'format', `The format field must be one of ${settings.formats.join(', ')}.`);
  }

  if (Object.keys(errors).length > 0) return { kind: 'invalid', errors };
  if (width === undefined) return ORIGINAL;
  const negotiated = format === undefined;
  return { kind: 'variant', variant: { width, format: negotiated ? negotiateFormat(accept, settings.formats) : (format as ImageVariantFormat), negotiated } };
}

/** The most widely supported format first: what a client that names no modern format gets. */
const FALLBACK_ORDER: readonly ImageVariantFormat[] = ['jpeg', 'webp', 'avif'];

/**
 * The format for an `Accept` header: AVIF when the client names `image/avif` (with q > 0) and it
 * is enabled, else WebP likewise, else JPEG (else the most widely supported enabled format).
 * Wildcards (`image/*`, the any-type range) name neither: browsers that decode AVIF or WebP list them explicitly, and
 * a client that lists nothing gets what every decoder reads. The server's order wins over q-values:
 * AVIF is the smallest for the same quality.
 */
export function negotiateFormat(accept: string | undefined, formats: readonly ImageVariantFormat[]): ImageVariantFormat {
  const named = acceptedImageTypes(accept);
  for (const format of ['avif', 'webp'] as const) if (formats.includes(format) && named.has(format)) return format;
  return FALLBACK_ORDER.find((format) => formats.includes(format))!;
}

/** The `image/<x>` subtypes an `Accept` header names with a q-value above 0. */
function acceptedImageTypes(accept: string | undefined): Set<string> {
  const named = new Set<string>();
  if (!accept) return named;
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';');
    const media = type!.trim().toLowerCase();
    if (!media.startsWith('image/')) continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    named.add(media.slice('image/'.length));
  }
  return named;
}
