import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { paginate } from '../platform/http/pagination.js';
import { ENDPOINT_STATES, type WebhooksOperatorService } from '../webhooks/webhooks-operator.service.js';
import { Message, PageOf, PageQuery, pageOf } from './admin.schemas.js';

export interface AdminWebhooksDeps {
  webhooks: WebhooksOperatorService;
  tokens: TokenVerifier;
}

/** How far back the deliveries per minute go. */
export const DELIVERY_MINUTES = 60;

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };
const At = Type.Union([Type.Number({ description: 'Epoch milliseconds' }), Type.Null()]);

const WebhooksQuery = Type.Object({
  ...PageQuery.properties,
  state: Type.Optional(Type.Union(ENDPOINT_STATES.map((state) => Type.Literal(state)), { description: 'Only endpoints in this state; `enabled` is enabled and not failing' })),
  user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Only the endpoints of this user' })),
});

const OperatorEndpointOutput = Type.Object({
  id: Type.Integer(),
  user: Type.Object({ id: Type.Integer(), name: Type.String(), email: Type.String() }),
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  state: Type.Union(ENDPOINT_STATES.map((state) => Type.Literal(state))),
  disabled_reason: Type.Union([Type.String(), Type.Null()]),
  disabled_at: At,
  failing_since: At,
  last_success_at: At,
  created_at: Type.Number(),
  deliveries: Type.Object({ pending: Type.Integer(), failed: Type.Integer() }),
});

const DeliveryMinuteOutput = Type.Object({
  minute: Type.Number({ description: 'Start of the minute, epoch milliseconds' }),
  succeeded: Type.Integer(),
  retrying: Type.Integer({ description: 'Deliveries whose last attempt in this minute failed, with another attempt scheduled' }),
  failed: Type.Integer({ description: 'Deliveries that failed for good in this minute' }),
});

const WebhooksOverviewOutput = Type.Object({
  ...PageOf(OperatorEndpointOutput).properties,
  deliveries_per_minute: Type.Array(DeliveryMinuteOutput, { description: `The last ${DELIVERY_MINUTES} minutes, oldest first; the last minute is still filling` }),
});

/** The operator API's view of every user's webhooks (ability `admin`). */
export async function adminWebhooksRoutes(app: FastifyInstance, deps: AdminWebhooksDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));

  app.get<{ Querystring: Static<typeof WebhooksQuery> }>(
    '/api/admin/webhooks',
    {
      schema: {
        ...secured,
        summary: `Webhook endpoints of every user, a page at a time: disabled first, then failing (oldest failure first), then healthy; with deliveries per minute by outcome over the last ${DELIVERY_MINUTES} minutes`,
        querystring: WebhooksQuery,
        response: { 200: WebhooksOverviewOutput, ...denied },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const { state, user_id: userId } = request.query;
      const [{ endpoints, total }, perMinute] = await Promise.all([deps.webhooks.endpoints({ state, userId }, page), deps.webhooks.deliveriesPerMinute(DELIVERY_MINUTES)]);
      const query: Record<string, string> = {};
      if (state) query.state = state;
      if (userId !== undefined) query.user_id = String(userId);
      return { ...paginate(endpoints, total, page, '/api/admin/webhooks', query), deliveries_per_minute: perMinute };
    },
  );
}
