import { Type } from 'typebox';

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
});

const ThroughputMinute = Type.Object({
  minute: Type.Number({ description: 'Start of the minute, epoch milliseconds' }),
  completed: Type.Integer(),
  retried: Type.Integer(),
  failed: Type.Integer(),
  parked: Type.Integer(),
});

export const QueueOverviewOutput = Type.Intersect([
  QueueStatsOutput,
  Type.Object({ throughput: Type.Array(ThroughputMinute, { description: 'Jobs finished per minute, oldest first; the last minute is still filling' }) }),
]);

export const QueueParams = Type.Object({ queue: Type.String({ minLength: 1, maxLength: 191 }) });

export const ParkedQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
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
