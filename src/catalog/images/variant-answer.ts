import type { FrontAnswer } from '../../platform/http/front-routes.js';
import { noneMatch } from '../../platform/http/entity-tags.js';
import { VARIANT_CONTENT_TYPES, type VariantRequest } from './image-variant-request.js';
import type { VariantKey } from './image-variants.js';

const CACHE_CONTROL = 'public, max-age=31536000, immutable';

/** The headers of every answer with an image: its name is its content, so it never changes. */
export const immutableHeaders = (etag: string) => ({ etag, 'cache-control': CACHE_CONTROL, 'x-content-type-options': 'nosniff' });

/**
 * A variant's answer: its bytes, or a 304 when the client holds them. Its strong ETag names the
 * source's hash and the recipe, so it is the same in every process.
 */
export function variantAnswer(key: VariantKey, asked: VariantRequest, bytes: Buffer, ifNoneMatch: string | undefined): FrontAnswer {
  const etag = `"${key.sha256}-w${key.width}.${key.format}"`;
  const headers = { ...immutableHeaders(etag), ...(asked.negotiated && { vary: 'Accept' }) };
  if (!noneMatch(ifNoneMatch, etag)) return { statusCode: 304, headers };
  return { statusCode: 200, headers: { ...headers, 'content-type': VARIANT_CONTENT_TYPES[key.format] }, body: bytes };
}
