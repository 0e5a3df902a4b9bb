import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { principalOf, requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { headerValues } from '../platform/http/headers.js';
import { paginate } from '../platform/http/pagination.js';
import { schemaErrorsOf } from '../platform/http/validation.js';
import { parseIdempotencyKey } from '../platform/idempotency/idempotency.js';
import { childTraceparent } from '../platform/telemetry/trace-context.js';
import { answerTo, createdOrderResponse } from './orders.responses.js';
import { ConflictSchema, CreateOrderBody, ListOrdersQuery, OrderOutput, OrderParams } from './orders.schemas.js';
import type { OrdersService } from './orders.service.js';

export interface OrdersRoutesDeps {
  orders: OrdersService;
  tokens: TokenVerifier;
}

const Message = Type.Object({ message: Type.String() });
// `errors` is absent from the 422 of an Idempotency-Key reused with another payload.
const ValidationError = Type.Object({ message: Type.String(), errors: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()))) });
const secured = { tags: ['orders'], security: [{ bearer: [] }] };

export async function ordersRoutes(app: FastifyInstance, deps: OrdersRoutesDeps): Promise<void> {
  // Before the body is read: without a valid token, a request costs no parse.
  app.addHook('onRequest', requireToken(deps.tokens, 'orders'));

  app.post(
    '/api/orders',
    {
      attachValidation: true,
      schema: {
        ...secured,
        summary: 'Store an order; recurring items are sent to the third party asynchronously',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: CreateOrderBody,
        response: {
          201: Type.Object({ message: Type.String(), order: OrderOutput }),
          400: Message,
          401: Message,
          409: ConflictSchema,
          413: Message,
          422: ValidationError,
        },
      },
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request);
      const created = await deps.orders.create({
        principal: principalOf(request),
        body: request.body,
        schemaErrors: schemaErrorsOf(request),
        idempotency: key === undefined ? undefined : { key, answer: createdOrderResponse },
        traceparent: childTraceparent(request.headers.traceparent),
      });
      // The bytes as recorded, so that a replay is byte-identical.
      const response = answerTo(created);
      reply.code(response.statusCode as 201).headers(response.headers).type('application/json; charset=utf-8');
      if (created.replayed) reply.header('idempotent-replayed', 'true');
      return reply.serializer((payload: unknown) => payload as string).send(response.body);
    },
  );

  app.get<{ Querystring: Static<typeof ListOrdersQuery> }>(
    '/api/orders',
    {
      schema: {
        ...secured,
        summary: "The caller's orders, newest first",
        querystring: ListOrdersQuery,
        response: { 200: Type.Object({ data: Type.Array(OrderOutput), links: Type.Unknown(), meta: Type.Unknown() }), 401: Message },
      },
    },
    async (request) => {
      const page = { page: request.query.page ?? 1, perPage: request.query.per_page ?? 15 };
      const { orders, total } = await deps.orders.list(principalOf(request), page);
      return paginate(orders, total, page, `${baseUrl(request)}/api/orders`);
    },
  );

  app.get<{ Params: Static<typeof OrderParams> }>(
    '/api/orders/:id',
    {
      schema: {
        ...secured,
        summary: 'One of the caller’s orders (404 for anyone else’s)',
        params: OrderParams,
        response: { 200: Type.Object({ order: OrderOutput }), 401: Message, 404: Message },
      },
    },
    async (request) => {
      const id = /^[1-9]\d{0,14}$/.test(request.params.id) ? Number(request.params.id) : null;
      if (id === null) throw httpErrors.notFound('Order not found.');
      return { order: await deps.orders.get(principalOf(request), id) };
    },
  );
}

/** The Idempotency-Key header, checked: sent once (Node would join repeats with ", "), 1 to 255 printable ASCII characters. */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  if (headerValues(request, 'idempotency-key').length > 1) throw httpErrors.repeatedHeader('Idempotency-Key');
  const key = parseIdempotencyKey(request.headers['idempotency-key']);
  if (key === null) throw httpErrors.badRequest('The Idempotency-Key header must be 1 to 255 printable ASCII characters.');
  return key;
}

function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}
