import { Type } from 'typebox';
import { PRIORITY_NAMES, type PriorityName } from './priority.js';

export const OrderItemInput = Type.Object({
  label: Type.String(),
  kind: Type.Union([Type.Literal('single'), Type.Literal('recurring')]),
  cost: Type.Number({ minimum: 0, maximum: 99_999_999.99 }),
  meta: Type.Optional(Type.Unknown({ description: 'An object (an empty array means {}); meta.priority is one of low|normal|high|critical|max' })),
});

export const CreateOrderBody = Type.Object({
  client: Type.Object({
    identity: Type.String(),
    contact_point: Type.String(),
  }),
  contents: Type.Array(OrderItemInput, { minItems: 1, maxItems: 100 }),
});

const Details = Type.Union([
  Type.Null(),
  Type.Object({
    status_code: Type.Union([Type.Integer(), Type.Null()]),
    attempts: Type.Integer(),
    duration_ms: Type.Integer(),
    last_error: Type.Union([Type.String(), Type.Null()]),
    completed_at: Type.Optional(Type.String()),
  }),
]);

export const OrderItemOutput = Type.Object({
  id: Type.Integer(),
  label: Type.String(),
  kind: Type.String(),
  cost: Type.Number(),
  meta: Type.Record(Type.String(), Type.Unknown()),
  priority: Type.Unsafe<PriorityName>({ type: 'string', enum: [...PRIORITY_NAMES] }),
  status: Type.String(),
  details: Details,
});

export const OrderOutput = Type.Object({
  id: Type.Integer(),
  client: Type.Object({ identity: Type.String(), contact_point: Type.String() }),
  contents: Type.Array(OrderItemOutput),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const OrderParams = Type.Object({ id: Type.String() });

export const ListOrdersQuery = Type.Object({
  // Bounded so that the offset stays an exact integer SQL can bind (a huge page was a 500).
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 15 })),
});

export const ConflictSchema = Type.Object({ message: Type.String(), order_id: Type.Optional(Type.Union([Type.Integer(), Type.Null()])) });
