import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { noneMatch } from '../../platform/http/entity-tags.js';
import { httpErrors } from '../../platform/http/errors.js';
import { ImageRefusedError, type ImageLimits } from './image-bombs.js';
import { ImageFiles, parseImageFileName } from './image-files.js';
import { parseVariantQuery, VARIANT_CONTENT_TYPES, type VariantRequest, type VariantSettings } from './image-variant-request.js';
import { ImageVariants, type VariantKey } from './image-variants.js';

export interface ImagesRoutesDeps {
  dataDir: string;
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
const CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * `GET /images/<sha256>.<ext>`: a cached image. The name is its content hash, so the response
 * never changes: it is cacheable forever and its ETag is the hash. Only names of that exact shape
 * reach the file system, which rules out traversal. With `?w=` (and `format`, or `Accept`), a
 * resized copy, made once and just as immutable.
 */
export async function imagesRoutes(app: FastifyInstance, deps: ImagesRoutesDeps): Promise<void> {
  const files = new ImageFiles(deps.dataDir);
  const variants = new ImageVariants({ ...deps.variants, files, logger: app.log, onDecode: deps.onDecode });

  app.get<{ Params: Static<typeof Params>; Querystring: Static<typeof Query> }>(
    '/images/:file',
    {
      schema: {
        tags: ['images'],
        summary: 'A cached image, by the sha256 of its bytes, or a resized copy of it',
        params: Params,
        querystring: Query,
        response: { 404: Message, 422: Type.Object({ message: Type.String(), errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))) }) },
      },
    },
    async (request, reply) => {
      const name = parseImageFileName(request.params.file);
      if (!name) throw httpErrors.notFound();
      const asked = parseVariantQuery(request.query, request.headers.accept, deps.variants);
      if (asked.kind === 'invalid') throw httpErrors.validation(asked.errors);
      if (asked.kind === 'variant') return serveVariant(variants, request, reply, { ...name, width: asked.variant.width, format: asked.variant.format }, asked.variant);

      const image = await files.open(name.sha256, name.ext);
      if (!image) throw httpErrors.notFound();

      const etag = `"${name.sha256}"`;
      reply.header('etag', etag).header('cache-control', CACHE_CONTROL).header('x-content-type-options', 'nosniff');
      if (!noneMatch(request.headers['if-none-match'], etag)) {
        await image.handle.close();
        return reply.code(304).send();
      }
      reply.type(image.contentType).header('content-length', image.size);
      return reply.send(image.handle.createReadStream());
    },
  );
}

/**
 * A variant: from memory when served lately, else from the store, else made now. Its strong
 * ETag names the source's hash and the recipe, so it is the same in every process.
 */
async function serveVariant(variants: ImageVariants, request: FastifyRequest, reply: FastifyReply, key: VariantKey, asked: VariantRequest): Promise<FastifyReply> {
  const bytes = variants.recall(key) ?? (await variants.read(key)) ?? (await made(variants, key));
  if (!bytes) throw httpErrors.notFound();
  const etag = `"${key.sha256}-w${key.width}.${key.format}"`;
  reply.header('etag', etag).header('cache-control', CACHE_CONTROL).header('x-content-type-options', 'nosniff');
  if (asked.negotiated) reply.header('vary', 'Accept');
  if (!noneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();
  return reply.type(VARIANT_CONTENT_TYPES[key.format]).send(bytes);
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
