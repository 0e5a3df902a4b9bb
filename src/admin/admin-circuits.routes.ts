import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { paginate } from '../platform/http/pagination.js';
import { CIRCUIT_COMMANDS, type CircuitsService } from '../platform/outbound/circuits.service.js';
import { Message, PageOf, PageQuery, pageOf } from './admin.schemas.js';

export interface AdminCircuitsDeps {
  circuits: CircuitsService;
  tokens: TokenVerifier;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };
const At = Type.Union([Type.Number({ description: 'Epoch milliseconds' }), Type.Null()]);

const DestinationParams = Type.Object({
  destination: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\s]+$', description: '`third-party`, `webhook:<endpoint id>` or `image-host:<host>`' }),
});

const CircuitOutput = Type.Object({
  destination: Type.String(),
  state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
  forced: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Null()], { description: "An operator's override; null: the breaker decides" }),
  opened_at: At,
  open_until: Type.Union([Type.Number(), Type.Null()], { description: 'When the cool-down ends and one probe may go' }),
  cooldown_ms: Type.Union([Type.Integer(), Type.Null()]),
  paused_until: Type.Union([Type.Number(), Type.Null()], { description: 'No request before this time: the destination asked to wait (Retry-After)' }),
  last_failure: Type.Union([Type.String(), Type.Null()]),
  last_failure_at: At,
  updated_at: Type.Number(),
});

const ForceBody = Type.Object(
  { state: Type.Union(CIRCUIT_COMMANDS.map((command) => Type.Literal(command)), { description: '`open` holds every job of the destination, `closed` lets them all through, `auto` gives the circuit back to its breaker' }) },
  { additionalProperties: false },
);

/** The circuits of the outbound destinations (ability `admin`): see them, and force them open or closed. */
export async function adminCircuitsRoutes(app: FastifyInstance, deps: AdminCircuitsDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/api/admin/circuits',
    {
      schema: {
        ...secured,
        summary: 'The circuits of the outbound destinations that have opened, been paused or been forced, a page at a time: open, half-open and forced first, then paused',
        querystring: PageQuery,
        response: { 200: PageOf(CircuitOutput), ...denied },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const { circuits, total } = await deps.circuits.list(page);
      return paginate(circuits, total, page, '/api/admin/circuits');
    },
  );

  app.get<{ Params: Static<typeof DestinationParams> }>(
    '/api/admin/circuits/:destination',
    { schema: { ...secured, summary: "One destination's circuit", params: DestinationParams, response: { 200: Type.Object({ circuit: CircuitOutput }), 404: Message, ...denied } } },
    async (request) => ({ circuit: await deps.circuits.get(request.params.destination) }),
  );

  app.post<{ Params: Static<typeof DestinationParams>; Body: Static<typeof ForceBody> }>(
    '/api/admin/circuits/:destination/force',
    {
      schema: {
        ...secured,
        summary: "Forces a destination's circuit open or closed, or gives it back to its breaker; every worker follows within OUTBOUND_STATE_REFRESH_MS",
        params: DestinationParams,
        body: ForceBody,
        response: { 200: Type.Object({ circuit: CircuitOutput }), ...denied },
      },
    },
    async (request) => ({ circuit: await deps.circuits.force(request.params.destination, request.body.state) }),
  );
}
