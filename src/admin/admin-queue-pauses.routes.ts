import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { principalOf, requireToken, type Principal, type TokenVerifier } from '../platform/http/authentication.js';
import { httpErrors } from '../platform/http/errors.js';
import { pauseView, type QueuePauses } from '../platform/queue/queue-pauses.js';
import { Message, QueueParams, QueuePausedOutput } from './admin.schemas.js';

export interface AdminQueuePausesDeps {
  pauses: QueuePauses;
  /** The job queues operators may pause. */
  queueNames: readonly string[];
  tokens: TokenVerifier;
  /** How a pause names the operator who made it (the email of the token's user). */
  operatorOf: (principal: Principal) => Promise<string>;
  /** QUEUE_PAUSE_POLL_MS: every worker follows a pause or resume within it. */
  pollMs: number;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };

const PauseBody = Type.Object(
  {
    reason: Type.Optional(
      Type.String({ maxLength: 500, pattern: '^[^\\u0000\\uD800-\\uDFFF]*$', description: 'Why, for the other operators; up to 500 characters, no NUL or unpaired surrogate' }),
    ),
  },
  { additionalProperties: false },
);

const QueueControlOutput = Type.Object({
  queue: Type.String(),
  paused: QueuePausedOutput,
  changed: Type.Boolean({ description: 'false: the queue was already in that state (a pause keeps its first time, operator and reason)' }),
});

/** Pausing and resuming a queue in every worker process (ability `admin`). */
export async function adminQueuePausesRoutes(app: FastifyInstance, deps: AdminQueuePausesDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));
  const known = (queue: string) => {
    if (!deps.queueNames.includes(queue)) throw httpErrors.notFound(`No queue named "${queue}".`);
    return queue;
  };

  app.post<{ Params: Static<typeof QueueParams>; Body: Static<typeof PauseBody> }>(
    '/api/admin/queues/:queue/pause',
    {
      // The reason is optional, and so is the body that carries it.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        ...secured,
        summary: `Pauses a queue: within ${deps.pollMs} ms no worker claims its jobs; those running finish, enqueues go on and wait. Pausing a paused queue changes nothing`,
        params: QueueParams,
        body: PauseBody,
        response: { 200: QueueControlOutput, 404: Message, 422: Message, ...denied },
      },
    },
    async (request) => {
      const queue = known(request.params.queue);
      const { pause, changed } = await deps.pauses.pause(queue, await deps.operatorOf(principalOf(request)), request.body.reason?.trim() || null);
      return { queue, paused: pauseView(pause), changed };
    },
  );

  app.post<{ Params: Static<typeof QueueParams> }>(
    '/api/admin/queues/:queue/resume',
    {
      schema: {
        ...secured,
        summary: `Resumes a paused queue: within ${deps.pollMs} ms its workers claim jobs again. Resuming a running queue changes nothing`,
        params: QueueParams,
        response: { 200: QueueControlOutput, 404: Message, ...denied },
      },
    },
    async (request) => {
      const queue = known(request.params.queue);
      return { queue, paused: null, changed: await deps.pauses.resume(queue) };
    },
  );
}
