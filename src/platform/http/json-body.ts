import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_JSON_DEPTH, textNestingExceeds } from '../json-depth.js';
import { httpErrors } from './errors.js';

type CallbackParser = (request: FastifyRequest, body: string, done: (error: Error | null, body?: unknown) => void) => void;

/**
 * The JSON body parser: Fastify's own (prototype poisoning refused), behind a scan of the raw text
 * that answers 400 to a body nested deeper than `maxDepth` before `JSON.parse` spends time on it.
 */
export function installJsonBodyParser(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  // Fastify's default JSON parser is the callback form of its FastifyBodyParser union.
  const parse = app.getDefaultJsonParser('error', 'error') as CallbackParser;
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (textNestingExceeds(body as string, maxDepth)) {
      done(httpErrors.bodyTooDeep(maxDepth), undefined);
      return;
    }
    parse(request, body as string, done);
  });
}
