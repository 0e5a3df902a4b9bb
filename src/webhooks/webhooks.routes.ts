import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { principalOf, requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { paginate } from '../platform/http/pagination.js';
import { schemaErrorsOf } from '../platform/http/validation.js';
import { DELIVERY_DOC, EVENTS_DOC } from './webhooks.docs.js';
import {
  CreateEndpointBody,
  DeliveriesQuery,
  DeliveryOutput,
  DeliveryParams,
  EndpointOutput,
  EndpointParams,
  EventsOutput,
  EventsQuery,
  PageQuery,
  UpdateEndpointBody,
} from './webhooks.schemas.js';
import type { WebhooksService } from './webhooks.service.js';

export interface WebhooksRoutesDeps {
  webhooks: WebhooksService;
  tokens: TokenVerifier;
  bodyLimitBytes: number;
}

const Message = Type.Object({ message: Type.String() });
const ValidationError = Type.Object({ message: Type.String(), errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))) });
const Secret = Type.String({ description: '`whsec_` + base64 of 32 random bytes; shown only here' });
const secured = { tags: ['webhooks'], security: [{ bearer: [] }] };
const refused = { 401: Message, 403: Message };

type EndpointRequest = { Params: Static<typeof EndpointParams> };

export async function webhooksRoutes(app: FastifyInstance, deps: WebhooksRoutesDeps): Promise<void> {
  const { webhooks } = deps;
  app.addHook('onRequest', requireToken(deps.tokens, 'orders'));
  const bodyLimit = deps.bodyLimitBytes;

  app.post(
    '/api/webhooks',
    {
      attachValidation: true,
      bodyLimit,
      schema: {
        ...secured,
        summary: 'Register a webhook endpoint; the answer holds its signing secret, shown only here',
        description: DELIVERY_DOC,
        body: CreateEndpointBody,
        response: { 201: Type.Object({ webhook: EndpointOutput, secret: Secret }), 400: Message, ...refused, 413: Message, 422: ValidationError },
      },
    },
    async (request, reply) => {
      const created = await webhooks.create(principalOf(request), request.body, schemaErrorsOf(request));
      return reply.code(201).header('location', `/api/webhooks/${created.webhook.id}`).send(created);
    },
  );

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/api/webhooks',
    {
      schema: {
        ...secured,
        summary: "The caller's webhook endpoints, newest first",
        querystring: PageQuery,
        response: { 200: Type.Object({ data: Type.Array(EndpointOutput), links: Type.Unknown(), meta: Type.Unknown() }), ...refused, 422: ValidationError },
      },
    },
    async (request) => {
      const page = { page: request.query.page ?? 1, perPage: request.query.per_page ?? 15 };
      const { webhooks: data, total } = await webhooks.list(principalOf(request), page);
      return paginate(data, total, page, `${baseUrl(request)}/api/webhooks`);
    },
  );

  app.get<EndpointRequest>(
    '/api/webhooks/:id',
    { schema: { ...secured, summary: "One of the caller's webhook endpoints (404 for anyone else's)", params: EndpointParams, response: { 200: Type.Object({ webhook: EndpointOutput }), ...refused, 404: Message } } },
    async (request) => ({ webhook: await webhooks.get(principalOf(request), idOf(request.params.id)) }),
  );

  app.patch<EndpointRequest>(
    '/api/webhooks/:id',
    {
      attachValidation: true,
      bodyLimit,
      schema: {
        ...secured,
        summary: 'Change an endpoint: its URL, events, description, or whether it is enabled',
        description: 'The same rules as at creation. `enabled: true` re-enables a disabled endpoint and clears `disabled_reason` and `disabled_at`.',
        params: EndpointParams,
        body: UpdateEndpointBody,
        response: { 200: Type.Object({ webhook: EndpointOutput }), 400: Message, ...refused, 404: Message, 413: Message, 422: ValidationError },
      },
    },
    async (request) => {
      const id = idOf(request.params.id);
      return { webhook: await webhooks.update(principalOf(request), id, request.body, schemaErrorsOf(request)) };
    },
  );

  app.delete<EndpointRequest>(
    '/api/webhooks/:id',
    {
      schema: {
        ...secured,
        summary: 'Delete an endpoint, with its delivery log; deliveries still pending are not sent',
        params: EndpointParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...refused, 404: Message },
      },
    },
    async (request, reply) => {
      await webhooks.remove(principalOf(request), idOf(request.params.id));
      return reply.code(204).send();
    },
  );

  app.post<EndpointRequest>(
    '/api/webhooks/:id/rotate-secret',
    {
      bodyLimit,
      schema: {
        ...secured,
        summary: 'Replace the signing secret; the old one keeps signing beside it for a while',
        description: 'For WEBHOOK_SECRET_OVERLAP_HOURS (default 24) every delivery carries two signatures, space-separated in `webhook-signature`: one with the new secret, one with the old.',
        params: EndpointParams,
        response: { 200: Type.Object({ secret: Secret }), ...refused, 404: Message },
      },
    },
    async (request) => ({ secret: await webhooks.rotateSecret(principalOf(request), idOf(request.params.id)) }),
  );

  app.get<EndpointRequest & { Querystring: Static<typeof DeliveriesQuery> }>(
    '/api/webhooks/:id/deliveries',
    {
      schema: {
        ...secured,
        summary: "An endpoint's deliveries, newest first, optionally of one status",
        description: 'Kept WEBHOOK_LOG_DAYS. `next_attempt_at` is set while a delivery is pending.',
        params: EndpointParams,
        querystring: DeliveriesQuery,
        response: { 200: Type.Object({ data: Type.Array(DeliveryOutput), links: Type.Unknown(), meta: Type.Unknown() }), ...refused, 404: Message, 422: ValidationError },
      },
    },
    async (request) => {
      const id = idOf(request.params.id);
      const { status } = request.query;
      const page = { page: request.query.page ?? 1, perPage: request.query.per_page ?? 15 };
      const { deliveries, total } = await webhooks.deliveries(principalOf(request), id, status, page);
      return paginate(deliveries, total, page, `${baseUrl(request)}/api/webhooks/${id}/deliveries`, status === undefined ? {} : { status });
    },
  );

  app.post<{ Params: Static<typeof DeliveryParams> }>(
    '/api/webhooks/:id/deliveries/:delivery_id/retry',
    {
      bodyLimit,
      schema: {
        ...secured,
        summary: 'Send a finished delivery again, under the same webhook-id',
        description: 'The delivery goes back to `pending` with a fresh count of attempts. 409 when it is already pending, or when its endpoint is disabled.',
        params: DeliveryParams,
        response: { 202: Type.Object({ delivery: DeliveryOutput }), ...refused, 404: Message, 409: Message },
      },
    },
    async (request, reply) => {
      const endpointId = idOf(request.params.id);
      const deliveryId = idOf(request.params.delivery_id, 'Delivery not found.');
      return reply.code(202).send({ delivery: await webhooks.retry(principalOf(request), endpointId, deliveryId) });
    },
  );

  app.get<{ Querystring: Static<typeof EventsQuery> }>(
    '/api/events',
    {
      schema: {
        ...secured,
        summary: "The caller's events after a given one, oldest first: the polling fallback to webhooks",
        description: EVENTS_DOC,
        querystring: EventsQuery,
        response: { 200: EventsOutput, ...refused, 422: ValidationError },
      },
    },
    async (request) => webhooks.events(principalOf(request), { since: request.query.since, types: request.query.types, limit: request.query.limit ?? 100 }),
  );
}

/** A path id: a positive integer as written by the API, else 404 (like an id that names nothing). */
function idOf(value: string, message = 'Webhook endpoint not found.'): number {
  if (!/^[1-9]\d{0,14}$/.test(value)) throw httpErrors.notFound(message);
  return Number(value);
}

function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
