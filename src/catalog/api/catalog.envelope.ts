import { Type, type TSchema } from 'typebox';
import type { ErrorFormatter } from '../../platform/http/error-handler.js';
import type { Paginated } from '../../platform/http/pagination.js';

/** The seed's envelope: every catalog response, success or error, has these four keys. */
export interface Envelope<T> {
  success: boolean;
  message: string;
  data: T;
  errors: Record<string, string[]> | null;
}

export type ListEnvelope<T> = Envelope<T[]> & Pick<Paginated<T>, 'links' | 'meta'>;

export function ok<T>(message: string, data: T): Envelope<T> {
  return { success: true, message, data, errors: null };
}

export function okList<T>(message: string, page: Paginated<T>): ListEnvelope<T> {
  return { success: true, message, data: page.data, errors: null, links: page.links, meta: page.meta };
}

/**
 * Errors in the envelope: `{success:false, message, data:null, errors}`. A 422 with field
 * errors says "Validation failed." (the fields carry the detail); a 500 adds the request id.
 */
export const catalogErrorFormatter: ErrorFormatter = (error) => ({
  success: false,
  message: error.statusCode === 422 && error.errors ? 'Validation failed.' : error.message,
  data: null,
  errors: error.errors ?? null,
  ...(error.statusCode >= 500 && typeof error.extra?.request_id === 'string' ? { request_id: error.extra.request_id } : {}),
});

const FieldErrorsSchema = Type.Record(Type.String(), Type.Array(Type.String()));

export const ErrorEnvelope = Type.Object({
  success: Type.Literal(false),
  message: Type.String(),
  data: Type.Null(),
  errors: Type.Union([FieldErrorsSchema, Type.Null()]),
  request_id: Type.Optional(Type.String()),
});

export function EnvelopeOf<T extends TSchema>(data: T) {
  return Type.Object({ success: Type.Boolean(), message: Type.String(), data, errors: Type.Null() });
}

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const LinksSchema = Type.Object({
  first: Type.String(),
  last: Type.String(),
  prev: Nullable(Type.String()),
  next: Nullable(Type.String()),
});

export const MetaSchema = Type.Object({
  current_page: Type.Integer(),
  from: Nullable(Type.Integer()),
  last_page: Type.Integer(),
  path: Type.String(),
  per_page: Type.Integer(),
  to: Nullable(Type.Integer()),
  total: Type.Integer(),
});

export function ListEnvelopeOf<T extends TSchema>(item: T) {
  return Type.Object({
    success: Type.Boolean(),
    message: Type.String(),
    data: Type.Array(item),
    errors: Type.Null(),
    links: LinksSchema,
    meta: MetaSchema,
  });
}

/** The error statuses every catalog route may answer, keyed for a route's `response`. */
export const readErrors = { 404: ErrorEnvelope, 422: ErrorEnvelope, 500: ErrorEnvelope } as const;
export const writeErrors = {
  400: ErrorEnvelope,
  401: ErrorEnvelope,
  403: ErrorEnvelope,
  404: ErrorEnvelope,
  413: ErrorEnvelope,
  415: ErrorEnvelope,
  422: ErrorEnvelope,
  500: ErrorEnvelope,
} as const;
