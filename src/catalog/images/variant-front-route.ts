import { parse as parseQuery } from 'node:querystring';
import type { FrontRoute } from '../../platform/http/front-routes.js';
import { parseImageFileName } from './image-files.js';
import { parseVariantQuery, type VariantSettings } from './image-variant-request.js';
import type { ImageVariants } from './image-variants.js';
import { variantAnswer } from './variant-answer.js';

/** The route of cached images, originals and variants alike. */
export const IMAGES_ROUTE = '/images/:file';
const PREFIX = '/images/';

/**
 * A variant in this process's memory, answered before Fastify routes the request: the same
 * answer the `GET /images/:file` route gives (variantAnswer), without its work per request. Any
 * other request under /images/ (an original, a variant to read or make, a name or query that is
 * not plainly valid) is left to that route.
 */
export function variantFrontRoute(variants: ImageVariants, settings: VariantSettings): FrontRoute {
  return {
    prefix: PREFIX,
    route: IMAGES_ROUTE,
    answer(path, query, headers) {
      if (query === '') return undefined;
      const name = parseImageFileName(path.slice(PREFIX.length));
      if (!name) return undefined;
      const asked = parseVariantQuery(parseQuery(query), headers.accept, settings);
      if (asked.kind !== 'variant') return undefined;
      const key = { sha256: name.sha256, ext: name.ext, width: asked.variant.width, format: asked.variant.format };
      const bytes = variants.recall(key);
      return bytes && variantAnswer(key, asked.variant, bytes, headers['if-none-match']);
    },
  };
}
