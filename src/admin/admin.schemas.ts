import { Type, type Static, type TSchema } from 'typebox';
import type { PageRequest } from '../platform/http/pagination.js';

export const Message = Type.Object({ message: Type.String() });

const ByPriority = Type.Record(Type.String(), Type.Integer());
const States = ['ready', 'delayed', 'active', 'parked'] as const;
const ByState = <T extends Parameters<typeof Type.Object>[0][string]>(value: T) => Type.Object(Object.fromEntries(States.map((state) => [state, value])));

export const QueueStatsOutput = Type.Object({
  queue: Type.String(),
  counts: ByState(Type.Integer()),
  byPriority: ByState(ByPriority),
  /** false where the driver cannot count by priority (RabbitMQ for ready, delayed and parked). */
  byPriorityExact: Type.Optional(ByState(Type.Boolean())),
  oldestReadySince: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Since when the oldest ready job has waited for a worker (epoch ms); null: none ready; absent where the driver cannot tell (RabbitMQ)' })),
});

const ThroughputMinute = Type.Object({
  minute: Type.Number({ description: 'Start of the minute, epoch milliseconds' }),
  completed: Type.Integer(),
  retried: Type.Integer(),
  failed: Type.Integer(),
  parked: Type.Integer(),
});

export const QueuePauseOutput = Type.Object({
  at: Type.Number({ description: 'When the queue was paused, epoch milliseconds' }),
  by: Type.String({ description: "Who paused it: the email of the operator token's user, or `cli`" }),
  reason: Type.Union([Type.String(), Type.Null()]),
});

export const QueuePausedOutput = Type.Union([QueuePauseOutput, Type.Null()], { description: 'Set while the queue is paused: no worker claims its jobs (those running finish), enqueues go on' });

export const QueueOverviewOutput = Type.Intersect([
  QueueStatsOutput,
  Type.Object({
    paused: QueuePausedOutput,
    throughput: Type.Array(ThroughputMinute, { description: 'Jobs finished per minute, oldest first; the last minute is still filling' }),
    longWait: Type.Boolean({ description: 'The oldest ready job has waited longer than QUEUE_WAIT_WARN_S' }),
    held: Type.Union(
      [
        Type.Object({
          destination: Type.String({ description: 'The one outbound destination every job of the queue goes to' }),
          reason: Type.Union(['circuit_open', 'probe_in_flight', 'paused', 'releasing', 'forced_open'].map((r) => Type.Literal(r)), { description: 'circuit_open, probe_in_flight (its half-open circuit is probing), paused (Retry-After), releasing (the circuit closed; the jobs start together, by priority), forced_open (an operator)' }),
          until: Type.Union([Type.Number(), Type.Null()], { description: 'When it ends, epoch milliseconds; null while only a change can end it' }),
        }),
        Type.Null(),
      ],
      { description: "Set while the queue's destination is held: its workers claim nothing, and its jobs wait in the queue by priority" },
    ),
    waitWarnS: Type.Number({ description: 'QUEUE_WAIT_WARN_S' }),
  }),
]);

export const QueueParams = Type.Object({ queue: Type.String({ minLength: 1, maxLength: 191 }) });

export const DEFAULT_PER_PAGE = 50;

/** Deep pages of a broker's parked queue are read message by message: the page number is bounded. */
export const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Page number, from 1' })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: `Items per page, 1 to 100 (default ${DEFAULT_PER_PAGE})` })),
});

export function pageOf(query: Static<typeof PageQuery>): PageRequest {
  return { page: query.page ?? 1, perPage: query.per_page ?? DEFAULT_PER_PAGE };
}

const Link = Type.Union([Type.String(), Type.Null()]);
const Position = Type.Union([Type.Integer(), Type.Null()]);

/** Laravel's paginator keys, as on every other list of the API. */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    data: Type.Array(item),
    links: Type.Object({ first: Type.String(), last: Type.String(), prev: Link, next: Link }),
    meta: Type.Object({
      current_page: Type.Integer(),
      from: Position,
      last_page: Type.Integer(),
      path: Type.String(),
      per_page: Type.Integer(),
      to: Position,
      total: Type.Integer(),
    }),
  });

export const ParkedJobOutput = Type.Object({
  id: Type.String(),
  queue: Type.String(),
  payload: Type.Unknown(),
  priority: Type.Integer(),
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Number(),
  parkedAt: Type.Number(),
});

const JobIds = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000 });

export const RetryBody = Type.Object({ ids: Type.Union([JobIds, Type.Literal('all')]) }, { additionalProperties: false });
export const PurgeBody = Type.Object({ ids: Type.Optional(JobIds), confirm: Type.Literal(true) }, { additionalProperties: false });
