import type { FastifyInstance, FastifyReply, FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { Type, type TObject, type TSchema } from 'typebox';
import { requireToken, type TokenVerifier } from '../../platform/http/authentication.js';
import { entityTagOf, ifMatches } from '../../platform/http/entity-tags.js';
import { httpErrors } from '../../platform/http/errors.js';
import type { CatalogVersion } from '../catalog-versions.repository.js';
import fastJson from 'fast-json-stringify';
import type { CatalogCaching, Serializer } from './catalog.caching.js';
import { paginate, type PageRequest } from '../../platform/http/pagination.js';
import { coerceLaravelInput } from './catalog.coerce.js';
import { unstorableTextErrors } from '../../platform/http/validation.js';
import type { WriteMode } from './catalog.input.js';
import { EnvelopeOf, ListEnvelopeOf, ok, okList, readErrors, writeErrors } from './catalog.envelope.js';
import { IdParams, ItemQuery, baseUrl, isTrue, linkQuery, pageOf, parseId, type FlagText, type PageQuery } from './catalog.params.js';

export const API_PREFIX = '/api/v1';
export const WRITE_ABILITY = 'catalog:write';

/** What a handler knows of its request beyond its input. */
export interface ResourceContext {
  /** `protocol://host`, for absolute links. */
  baseUrl: string;
  /** IMAGE_VARIANT_WIDTHS: the resized copies a cached image links to. */
  imageVariantWidths: readonly number[];
  includeRemoved: boolean;
  /** On reads: the catalog version they answer at (a list's total is cached per version). */
  version?: CatalogVersion;
  /**
   * On writes with `If-Match`: called, in the write's transaction, with the resource as a GET
   * would show it now; it throws 412 when the client's tag is not that of this view.
   */
  expect?: (current: unknown) => void;
}

/** One catalog resource: its schemas, and its operations with their results already presented. */
export interface ResourceSpec<Q extends PageQuery, B, V> {
  /** Under `/api/v1`, e.g. `/pornstars`. */
  path: string;
  tag: string;
  /** "Pornstar", for messages ("Pornstar created successfully") and summaries. */
  noun: string;
  plural: string;
  view: TSchema;
  query: TObject;
  /** POST and PUT. */
  body: TSchema;
  /** PATCH: every field optional. */
  patchBody: TSchema;
  list(query: Q, page: PageRequest, ctx: ResourceContext): Promise<{ items: V[]; total: number }>;
  show(id: number, ctx: ResourceContext): Promise<V>;
  create(body: B, ctx: ResourceContext): Promise<V & { id: number }>;
  update(id: number, body: B, mode: WriteMode, ctx: ResourceContext): Promise<V>;
  destroy(id: number, ctx: ResourceContext): Promise<void>;
  /** Delta sync on the list's path: a list request with `changed_since` gets this answer, serialized with `schema`. */
  changes?: { schema: TSchema; answer(query: Q & { changed_since: string }, ctx: ResourceContext): Promise<object> };
}

function contextOf(request: FastifyRequest, imageVariantWidths: readonly number[]): ResourceContext {
  const query = request.query as { include_removed?: FlagText } | undefined;
  return { baseUrl: baseUrl(request), imageVariantWidths, includeRemoved: isTrue(query?.include_removed) };
}

/** How a GET shows one resource: its envelope and the schema that serializes it. */
interface ShowAnswer {
  envelope: (view: unknown) => object;
  schema: TSchema;
}

/**
 * A write's context, with the `If-Match` check against the resource's current GET answer: its
 * envelope serialized with the GET's schema, then hashed as the GET's.
 */
function writeContextOf(request: FastifyRequest, reply: FastifyReply, show: ShowAnswer, imageVariantWidths: readonly number[]): ResourceContext {
  const ifMatch = request.headers['if-match'];
  if (ifMatch === undefined) return contextOf(request, imageVariantWidths);
  return {
    ...contextOf(request, imageVariantWidths),
    expect: (current) => {
      if (!ifMatches(ifMatch, entityTagOf(reply.serializeInput(show.envelope(current) as Record<string, unknown>, show.schema as unknown as Record<string, unknown>)))) throw httpErrors.preconditionFailed();
    },
  };
}

const idOf = (request: FastifyRequest) => parseId((request.params as { id: string }).id);

/** Reads the body as Laravel did before validating it (numeric strings of integer fields, "" as null). */
const laravelInput = (schema: TSchema): preValidationAsyncHookHandler =>
  async function coerceBody(request) {
    request.body = coerceLaravelInput(schema, request.body);
  };

/** A write's strings are stored, so each must be whole Unicode: a lone surrogate is a 422 on its dotted key. */
async function refuseLoneSurrogates(request: FastifyRequest): Promise<void> {
  const errors = unstorableTextErrors(request.body);
  if (Object.keys(errors).length > 0) throw httpErrors.validation(errors);
}

/** Index, store, show, update (PUT and PATCH) and destroy, in the seed's envelope. `imageVariantWidths`: for the resources that show images. */
export function resourceRoutes<Q extends PageQuery, B, V>(
  app: FastifyInstance,
  spec: ResourceSpec<Q, B, V>,
  tokens: TokenVerifier,
  caching: CatalogCaching,
  imageVariantWidths: readonly number[] = [],
): void {
  const item = EnvelopeOf(spec.view);
  const noun = spec.noun.toLowerCase();
  const read = { tags: [spec.tag] };
  const write = { tags: [spec.tag], security: [{ bearer: [] }] };
  // Authentication runs first, before the body is parsed or validated: no token is a 401 whatever the body.
  const guard = requireToken(tokens, WRITE_ABILITY);
  const knownQuery = Object.keys(spec.query.properties);
  const member = `${spec.path}/:id`;
  const shown = (view: unknown) => ok(`${spec.noun} retrieved successfully`, view);
  const show: ShowAnswer = { envelope: shown, schema: item };
  const conditional = { 304: Type.Null({ description: 'Not Modified: the ETag in If-None-Match is current (or nothing changed since If-Modified-Since)' }) };

  const list = ListEnvelopeOf(spec.view);
  const changes = spec.changes;
  // Compiled now rather than by the first delta request, which would otherwise wait for it.
  const serializeChanges = changes && (fastJson(changes.schema as object) as Serializer);
  app.get(
    spec.path,
    {
      schema: {
        ...read,
        summary: changes ? `List ${spec.plural.toLowerCase()} (paginated), or what changed after a cursor (changed_since)` : `List ${spec.plural.toLowerCase()} (paginated)`,
        querystring: spec.query,
        response: { 200: changes ? Type.Union([list, changes.schema]) : list, ...conditional, ...readErrors },
      },
    },
    async (request, reply) => {
      const query = request.query as Q & { changed_since?: string };
      if (changes && query.changed_since !== undefined) {
        const delta = { ...query, changed_since: query.changed_since };
        return caching.read(request, reply, (version) => changes.answer(delta, { ...contextOf(request, imageVariantWidths), version }), serializeChanges);
      }
      return caching.read(
        request,
        reply,
        async (version) => {
          const page = pageOf(query);
          const { items, total } = await spec.list(query, page, { ...contextOf(request, imageVariantWidths), version });
          const path = `${baseUrl(request)}${API_PREFIX}${spec.path}`;
          return okList(`${spec.plural} retrieved successfully`, paginate(items, total, page, path, linkQuery(query, knownQuery)));
        },
        list,
      );
    },
  );

  app.post(
    spec.path,
    { onRequest: guard, preValidation: laravelInput(spec.body), preHandler: refuseLoneSurrogates, schema: { ...write, summary: `Create a ${noun}`, body: spec.body, response: { 201: item, ...writeErrors } } },
    async (request, reply) => {
      const created = await spec.create(request.body as B, contextOf(request, imageVariantWidths));
      reply.code(201).header('location', `${API_PREFIX}${spec.path}/${created.id}`);
      return ok(`${spec.noun} created successfully`, created);
    },
  );

  app.get(
    member,
    { schema: { ...read, summary: `Show a ${noun}`, params: IdParams, querystring: ItemQuery, response: { 200: item, ...conditional, ...readErrors } } },
    async (request, reply) => caching.read(request, reply, async (version) => shown(await spec.show(idOf(request), { ...contextOf(request, imageVariantWidths), version })), item),
  );

  const update = (mode: WriteMode) => async (request: FastifyRequest, reply: FastifyReply) =>
    ok(`${spec.noun} updated successfully`, await spec.update(idOf(request), request.body as B, mode, writeContextOf(request, reply, show, imageVariantWidths)));

  app.put(
    member,
    {
      onRequest: guard,
      preValidation: laravelInput(spec.body),
      preHandler: refuseLoneSurrogates,
      schema: {
        ...write,
        summary: `Replace a ${noun}: fields left out become null or their default`,
        params: IdParams,
        querystring: ItemQuery,
        body: spec.body,
        response: { 200: item, ...writeErrors },
      },
    },
    update('replace'),
  );

  app.patch(
    member,
    {
      onRequest: guard,
      preValidation: laravelInput(spec.patchBody),
      preHandler: refuseLoneSurrogates,
      schema: {
        ...write,
        summary: `Update a ${noun}: only the fields sent change`,
        params: IdParams,
        querystring: ItemQuery,
        body: spec.patchBody,
        response: { 200: item, ...writeErrors },
      },
    },
    update('merge'),
  );

  app.delete(
    member,
    {
      onRequest: guard,
      schema: { ...write, summary: `Delete a ${noun}`, params: IdParams, querystring: ItemQuery, response: { 200: EnvelopeOf(Type.Null()), ...writeErrors } },
    },
    async (request, reply) => {
      await spec.destroy(idOf(request), writeContextOf(request, reply, show, imageVariantWidths));
      return ok(`${spec.noun} deleted successfully`, null);
    },
  );
}
