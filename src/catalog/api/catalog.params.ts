import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { httpErrors } from '../../platform/http/errors.js';
import type { PageRequest } from '../../platform/http/pagination.js';

/** Bounded so that the offset stays an exact integer SQL can bind. */
export const MAX_PAGE = 1_000_000_000;
export const MAX_PER_PAGE = 100;
export const DEFAULT_PER_PAGE = 15;
/** Ids above this are not ids we could have issued: 404 without asking the database. */
const ID_PATTERN = /^[1-9]\d{0,14}$/;

export type FlagText = 'true' | 'false' | '1' | '0';
export const FLAG_VALUES: readonly FlagText[] = ['true', 'false', '1', '0'];

export const Flag = (description: string) => Type.Unsafe<FlagText>({ type: 'string', enum: [...FLAG_VALUES], description });

/** A foreign id in a query string (`pornstar_id`, `thumbnail_id`). */
export const IdFilter = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });

export const pageProperties = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: 'Page number, from 1' })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PER_PAGE, description: 'Items per page, 1 to 100 (default 15)' })),
  include_removed: Type.Optional(Flag('Also show pornstars that left the feed')),
};

export const IdParams = Type.Object({ id: Type.String({ description: 'A numeric id' }) });

export const ItemQuery = Type.Object({ include_removed: Type.Optional(Flag('Also show a pornstar that left the feed')) });

export interface PageQuery {
  page?: number;
  per_page?: number;
  include_removed?: FlagText;
}

export function pageOf(query: PageQuery): PageRequest {
  return { page: query.page ?? 1, perPage: query.per_page ?? DEFAULT_PER_PAGE };
}

export function isTrue(flag: FlagText | undefined): boolean {
  return flag === 'true' || flag === '1';
}

/** The value of a true/false/1/0 flag, or undefined when it was not sent. */
export function flagValue(flag: FlagText | undefined): boolean | undefined {
  return flag === undefined ? undefined : isTrue(flag);
}

/** A path id: anything that is not a positive integer is an unknown resource. */
export function parseId(text: string): number {
  if (!ID_PATTERN.test(text)) throw httpErrors.notFound();
  return Number(text);
}

/** `protocol://host` of the request, for absolute links. */
export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** The known query parameters that paginator links must keep (all but `page` and `per_page`). */
export function linkQuery(query: object, known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!known.includes(key) || key === 'page' || key === 'per_page' || value === undefined || value === null || value === '') continue;
    out[key] = String(value);
  }
  return out;
}
