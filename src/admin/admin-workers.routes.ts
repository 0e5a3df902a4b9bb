import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { requireToken, type TokenVerifier } from '../platform/http/authentication.js';
import { paginate } from '../platform/http/pagination.js';
import type { WorkerProcesses } from '../platform/queue/worker-processes.js';
import { Message, PageOf, PageQuery, pageOf } from './admin.schemas.js';

export interface AdminWorkersDeps {
  workers: WorkerProcesses;
  tokens: TokenVerifier;
}

const secured = { tags: ['admin'], security: [{ bearer: [] }] };
const denied = { 401: Message, 403: Message };

const RunningJobOutput = Type.Object({
  queue: Type.String(),
  id: Type.String(),
  attempt: Type.Integer(),
  startedAt: Type.Number({ description: 'When this attempt started, epoch milliseconds' }),
});

const WorkerProcessOutput = Type.Object({
  id: Type.String({ description: 'hostname:pid:random, unique per process start' }),
  role: Type.String(),
  hostname: Type.String(),
  pid: Type.Integer(),
  version: Type.String(),
  startedAt: Type.Number(),
  lastSeenAt: Type.Number({ description: 'Its last heartbeat, epoch milliseconds' }),
  heartbeatMs: Type.Integer({ description: "The process's WORKER_HEARTBEAT_MS" }),
  alive: Type.Boolean({ description: 'Seen within its last three heartbeats' }),
  queues: Type.Array(Type.Object({ queue: Type.String(), concurrency: Type.Integer() })),
  running: Type.Array(RunningJobOutput, { description: 'The jobs it ran at its last heartbeat, the oldest first (at most 200 listed)' }),
  runningCount: Type.Integer(),
});

/** The worker processes and what each runs now (ability `admin`). */
export async function adminWorkersRoutes(app: FastifyInstance, deps: AdminWorkersDeps): Promise<void> {
  app.addHook('onRequest', requireToken(deps.tokens, 'admin'));

  app.get<{ Querystring: Static<typeof PageQuery> }>(
    '/api/admin/workers',
    {
      schema: {
        ...secured,
        summary: 'The processes that run workers, a page at a time, with the jobs each runs now: the alive first, then those that stopped beating within the last hour',
        querystring: PageQuery,
        response: { 200: PageOf(WorkerProcessOutput), ...denied },
      },
    },
    async (request) => {
      const page = pageOf(request.query);
      const { processes, total } = await deps.workers.list(page);
      return paginate(processes, total, page, '/api/admin/workers');
    },
  );
}
