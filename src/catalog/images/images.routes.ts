import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { noneMatch } from '../../platform/http/entity-tags.js';
import { httpErrors } from '../../platform/http/errors.js';
import { ImageFiles, parseImageFileName } from './image-files.js';

export interface ImagesRoutesDeps {
  dataDir: string;
}

const Params = Type.Object({ file: Type.String() });
const CACHE_CONTROL = 'public, max-age=31536000, immutable';

/**
 * `GET /images/<sha256>.<ext>`: a cached image. The name is its content hash, so the response
 * never changes: it is cacheable forever and its ETag is the hash. Only names of that exact shape
 * reach the file system, which rules out traversal.
 */
export async function imagesRoutes(app: FastifyInstance, deps: ImagesRoutesDeps): Promise<void> {
  const files = new ImageFiles(deps.dataDir);

  app.get<{ Params: Static<typeof Params> }>(
    '/images/:file',
    {
      schema: {
        tags: ['images'],
        summary: 'A cached image, by the sha256 of its bytes',
        params: Params,
        response: { 404: Type.Object({ message: Type.String() }) },
      },
    },
    async (request, reply) => {
      const name = parseImageFileName(request.params.file);
      if (!name) throw httpErrors.notFound();
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
