import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { offsetOf, paginate } from '../platform/http/pagination.js';
import { actOnParkedMatches, type JobFilter } from '../platform/queue/job-search.js';
import type { JobState, Priority, Queue } from '../platform/queue/queue.js';
import { Message, PageOf, PageQuery, pageOf, ParkedJobOutput, QueueParams } from './admin.schemas.js';

export interface AdminJobSearchDeps {
  queue: Queue;
  queueNames: readonly string[];
  tokens: TokenVerifier;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };
const STATES: JobState[] = ['ready', 'delayed', 'active', 'parked'];

const FilterFields = {
  state: Type.Optional(Type.Union(STATES.map((state) => Type.Literal(state)))),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: '1 low … 5 max' })),
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'Enqueued at or after (epoch milliseconds)' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'Enqueued before (epoch milliseconds)' })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in the payload (its JSON) or the last error, case-insensitive' })),
  payload_field: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$', description: 'A top-level payload field, with payload_value' })),
  payload_value: Type.Optional(Type.String({ maxLength: 200, description: 'Its value, read as JSON when it is JSON (42, true, null, "42"), as a string otherwise' })),
};
const SearchQuery = Type.Object({ ...PageQuery.properties, ...FilterFields });
const ActionBody = Type.Object({ ...FilterFields, confirm: Type.Literal(true) }, { additionalProperties: false, description: 'The search to act on (its parked jobs), and `confirm: true`' });

/** A parked job's fields, with its state and last change instead of its parking time. */
const { parkedAt: _parkedAt, ...parkedFields } = ParkedJobOutput.properties;
const JobOutput = Type.Object({ ...parkedFields, state: Type.Union(STATES.map((state) => Type.Literal(state))), updatedAt: Type.Number() });
const SearchOutput = Type.Object({
  ...PageOf(JobOutput).properties,
  scope: Type.Union([Type.Literal('all'), Type.Literal('parked')], { description: '`parked` where the queue driver can search parked jobs only (RabbitMQ: ready messages cannot be read in place)' }),
});

function filterOf(fields: Static<typeof ActionBody> | Static<typeof SearchQuery>): JobFilter {
  if ((fields.payload_field === undefined) !== (fields.payload_value === undefined)) throw httpErrors.unprocessable('payload_field and payload_value go together.');
  let payloadField: JobFilter['payloadField'];
  if (fields.payload_field !== undefined) {
    let value: string | number | boolean | null = fields.payload_value!;
    try {
      const parsed = JSON.parse(value) as unknown;
      if (parsed === null || ['string', 'number', 'boolean'].includes(typeof parsed)) value = parsed as typeof value;
    } catch {
      // Not JSON: the text itself.
    }
    payloadField = { key: fields.payload_field, value };
  }
  return { state: fields.state, priority: fields.priority as Priority | undefined, from: fields.from, to: fields.to, text: fields.q, payloadField };
}

/** Job search for operators (ability `admin`): find a queue's jobs, and retry or purge the parked ones found, as one action. */
export async function adminJobSearchRoutes(app: FastifyInstance, deps: AdminJobSearchDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));
  const known = (queue: string) => {
    if (!deps.queueNames.includes(queue)) throw httpErrors.notFound(`No queue named "${queue}".`);
    return queue;
  };

  app.get<{ Params: Static<typeof QueueParams>; Querystring: Static<typeof SearchQuery> }>(
    '/api/admin/queues/:queue/jobs',
    {
      schema: {
        ...secured,
        summary: "Searches a queue's jobs by state, priority, time range, text in the payload or last error, and payload field; newest first, a page at a time",
        params: QueueParams,
        querystring: SearchQuery,
        response: { 200: SearchOutput, 404: Message, 422: Message, ...denied },
      },
    },
    async (request) => {
      const queue = known(request.params.queue);
      const page = pageOf(request.query);
      const filter = filterOf(request.query);
      const { jobs, total, scope } = await deps.queue.search(queue, filter, { limit: page.perPage, offset: offsetOf(page) });
      const query = Object.fromEntries(Object.entries(request.query).filter(([key, value]) => value !== undefined && key !== 'page' && key !== 'per_page').map(([key, value]) => [key, String(value)]));
      return { ...paginate(jobs, total, page, `/api/admin/queues/${encodeURIComponent(queue)}/jobs`, query), scope };
    },
  );

  for (const action of ['retry', 'purge'] as const) {
    app.post<{ Params: Static<typeof QueueParams>; Body: Static<typeof ActionBody> }>(
      `/api/admin/queues/:queue/jobs/${action}`,
      {
        schema: {
          ...secured,
          summary: action === 'retry' ? 'Re-drives, with fresh attempts, every parked job a search finds' : 'Deletes every parked job a search finds',
          params: QueueParams,
          body: ActionBody,
          response: { 200: Type.Object({ [action === 'retry' ? 'retried' : 'purged']: Type.Integer() }), 404: Message, 422: Message, ...denied },
        },
      },
      async (request) => {
        const queue = known(request.params.queue);
        if (request.body.state !== undefined && request.body.state !== 'parked') throw httpErrors.unprocessable('Only parked jobs can be retried or purged: search with state=parked, or without a state.');
        const count = await actOnParkedMatches(deps.queue, queue, filterOf(request.body), action);
        return { [action === 'retry' ? 'retried' : 'purged']: count };
      },
    );
  }
}
