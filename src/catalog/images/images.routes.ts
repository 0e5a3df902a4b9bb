import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ImageServeMode } from '../../config.js';
import { noneMatch } from '../../platform/http/entity-tags.js';
import { httpErrors } from '../../platform/http/errors.js';
import { ImageRefusedError, type ImageLimits } from './image-bombs.js';
import { imageRelativePath, parseImageFileName } from './image-files.js';
import { ImageStoreUnavailableError, type ImageStore } from './image-store.js';
import { parseVariantQuery, type VariantRequest, type VariantSettings } from './image-variant-request.js';
import { ImageVariants, type VariantKey } from './image-variants.js';
import { immutableHeaders, variantAnswer } from './variant-answer.js';
import { IMAGES_ROUTE, variantFrontRoute } from './variant-front-route.js';

export interface ImagesRoutesDeps {
  /** Where the originals and variants are read (and variants stored). */
  store: ImageStore;
  /** `config.images.serve`: originals streamed through this process, or a redirect to a pre-signed URL (s3 only). */
  serve: { mode: ImageServeMode; redirectTtlSeconds: number };
  /** From `config.images`: the widths and formats offered, the decoding limits, the variants made at once and kept in memory. */
  variants: VariantSettings & ImageLimits & { concurrency: number; memoryBytes: number };
  /** Tests: called when a variant's source is about to be decoded. */
  onDecode?: (key: VariantKey) => void;
}

const Params = Type.Object({ file: Type.String() });
const Query = Type.Object({
  w: Type.Optional(Type.String({ description: 'A resized copy this wide (one of IMAGE_VARIANT_WIDTHS; never wider than the original)' })),
  format: Type.Optional(Type.String({ description: 'avif, webp or jpeg (those of IMAGE_VARIANT_FORMATS), with w; without it, the format is negotiated from Accept' })),
});
const Message = Type.Object({ message: Type.String() });

/**
 * `GET /images/<sha256>.<ext>`: a cached image. The name is its content hash, so the response
 * never changes: it is cacheable forever and its ETag is the hash. Only names of that exact shape
 * reach the store, which rules out traversal. With `?w=` (and `format`, or `Accept`), a resized
 * copy, made once and just as immutable. A store that cannot be reached is a 503.
 */
export async function imagesRoutes(app: FastifyInstance, deps: ImagesRoutesDeps): Promise<void> {
  const { store } = deps;
  const variants = new ImageVariants({ ...deps.variants, store, logger: app.log, onDecode: deps.onDecode });
  if (deps.serve.mode === 'redirect' && !store.presignedUrl) throw new Error(`IMAGE_SERVE=redirect needs a store that signs URLs; the ${store.kind} store does not`);
  app.frontRoutes?.add(variantFrontRoute(variants, deps.variants));

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof Query> }>(
    IMAGES_ROUTE,
    {
      schema: {
        tags: ['images'],
        summary: 'A cached image, by the sha256 of its bytes, or a resized copy of it',
        params: Params,
        querystring: Query,
        response: { 404: Message, 422: Type.Object({ message: Type.String(), errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))) }) },
      },
    },
    // Not async: a variant served from memory is answered without a promise or a tick.
    (request, reply) => {
      const name = parseImageFileName(request.params.file);
      if (!name) throw httpErrors.notFound();
      const asked = parseVariantQuery(request.query, request.headers.accept, deps.variants);
      if (asked.kind === 'invalid') throw httpErrors.validation(asked.errors);
      if (asked.kind === 'original') return fromStore(request, serveOriginal(deps, request, reply, name.sha256, imageRelativePath(name.sha256, name.ext)));
      const key: VariantKey = { sha256: name.sha256, ext: name.ext, width: asked.variant.width, format: asked.variant.format };
      const remembered = variants.recall(key);
      if (remembered) return sendVariant(request, reply, key, asked.variant, remembered);
      return fromStore(request, serveVariant(variants, request, reply, key, asked.variant));
    },
  );
}

/** A store that cannot be reached is a 503, not a 500: the image may well be there. */
async function fromStore(request: FastifyRequest, answer: Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await answer;
  } catch (error) {
    if (!(error instanceof ImageStoreUnavailableError)) throw error;
    request.log.warn({ err: error }, 'image store unavailable');
    throw httpErrors.unavailable(STORE_RETRY_AFTER_S, 'The image store is unavailable.');
  }
}

/** A store that cannot be reached: worth asking again soon. */
const STORE_RETRY_AFTER_S = 5;

/**
 * An original: 304 when the client holds it; streamed from the store; or, with
 * IMAGE_SERVE=redirect, a 302 to a pre-signed URL, which the client may keep for half its life.
 */
async function serveOriginal(deps: ImagesRoutesDeps, request: FastifyRequest, reply: FastifyReply, sha256: string, key: string): Promise<FastifyReply> {
  const { store, serve } = deps;
  const etag = `"${sha256}"`;
  if (!noneMatch(request.headers['if-none-match'], etag)) {
    if (!(await store.has(key))) throw httpErrors.notFound();
    return reply.code(304).headers(immutableHeaders(etag)).send();
  }
  if (serve.mode === 'redirect') {
    if (!(await store.has(key))) throw httpErrors.notFound();
    const url = await store.presignedUrl!(key, serve.redirectTtlSeconds);
    return reply.code(302).header('location', url).header('cache-control', `public, max-age=${Math.floor(serve.redirectTtlSeconds / 2)}`).send();
  }
  const object = await store.open(key);
  if (!object) throw httpErrors.notFound();
  reply.headers(immutableHeaders(etag)).type(object.contentType).header('content-length', object.size);
  return reply.send(object.body);
}

/**
 * A variant not in memory: from the store, else made now. Variants are small and mostly answered
 * from memory, so they are served by this process in either IMAGE_SERVE mode.
 */
async function serveVariant(variants: ImageVariants, request: FastifyRequest, reply: FastifyReply, key: VariantKey, asked: VariantRequest): Promise<FastifyReply> {
  const bytes = (await variants.read(key)) ?? (await made(variants, key));
  if (!bytes) throw httpErrors.notFound();
  return sendVariant(request, reply, key, asked, bytes);
}

function sendVariant(request: FastifyRequest, reply: FastifyReply, key: VariantKey, asked: VariantRequest, bytes: Buffer): FastifyReply {
  const answer = variantAnswer(key, asked, bytes, request.headers['if-none-match']);
  return reply.code(answer.statusCode).headers(answer.headers).send(answer.body);
}

/** Makes a variant; a source that is a bomb or cannot be decoded is a 422 (asking again gets the same answer). */
async function made(variants: ImageVariants, key: VariantKey): Promise<Buffer | undefined> {
  try {
    return await variants.make(key);
  } catch (error) {
    if (error instanceof ImageRefusedError) throw httpErrors.unprocessable(`This image has no variants: ${error.message}.`);
    throw error;
  }
}
