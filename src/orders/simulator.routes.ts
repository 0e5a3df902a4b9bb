import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { RequestLogRouteConfig } from '../platform/http/request-log.js';
import type { SimulatorState } from './simulator.state.js';

/** The worker's calls to the simulator are its jobs, logged as such: their request lines are for debugging only. */
const QUIET: RequestLogRouteConfig = { requestLog: 'debug' };

const ThirdPartyOrderBody = Type.Object({
  ProductName: Type.String(),
  Price: Type.Number(),
  Timestamp: Type.String(),
});

/**
 * `POST /simulator/orders`: a stand-in for the slow, flaky third party. It has no authentication:
 * it is served on a port of its own (loopback by default), never on the API's.
 */
export async function simulatorRoutes(app: FastifyInstance, state: SimulatorState, options: { bodyLimitBytes: number }): Promise<void> {
  app.post<{ Body: Static<typeof ThirdPartyOrderBody> }>(
    '/simulator/orders',
    { bodyLimit: options.bodyLimitBytes, config: QUIET, schema: { summary: 'Simulated third-party order endpoint', tags: ['simulator'], body: ThirdPartyOrderBody } },
    async (request, reply) => {
      await sleep(state.delayMs());
      const header = request.headers['idempotency-key'];
      const outcome = state.receive(typeof header === 'string' ? header : undefined);
      switch (outcome.kind) {
        case 'failed':
          return reply.code(outcome.status).send({ message: 'Simulated failure' });
        case 'duplicate':
          return reply.code(200).header('idempotent-replayed', 'true').send({ id: outcome.orderId, status: 'accepted' });
        case 'applied':
          return reply.code(201).send({ id: outcome.orderId, status: 'accepted' });
      }
    },
  );

  app.get<{ Querystring: { keys?: boolean } }>(
    '/simulator/stats',
    { config: QUIET, schema: { summary: 'What the simulator received and applied', tags: ['simulator'], querystring: Type.Object({ keys: Type.Optional(Type.Boolean()) }) } },
    async (request) => state.snapshot(request.query.keys === true),
  );
}
