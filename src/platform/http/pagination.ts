export interface PageRequest {
  page: number;
  perPage: number;
}

export interface Paginated<T> {
  data: T[];
  links: { first: string; last: string; prev: string | null; next: string | null };
  meta: { current_page: number; from: number | null; last_page: number; path: string; per_page: number; to: number | null; total: number };
}

/** Laravel's length-aware paginator keys, so that the seed's clients keep working. */
export function paginate<T>(data: T[], total: number, request: PageRequest, path: string, query: Record<string, string> = {}): Paginated<T> {
  const lastPage = Math.max(1, Math.ceil(total / request.perPage));
  const link = (page: number) => {
    const params = new URLSearchParams({ ...query, page: String(page) });
    if (request.perPage !== 15) params.set('per_page', String(request.perPage));
    return `${path}?${params.toString()}`;
  };
  const from = data.length > 0 ? (request.page - 1) * request.perPage + 1 : null;
  return {
    data,
    links: {
      first: link(1),
      last: link(lastPage),
      prev: request.page > 1 ? link(Math.min(request.page - 1, lastPage)) : null,
      next: request.page < lastPage ? link(request.page + 1) : null,
    },
    meta: {
      current_page: request.page,
      from,
      last_page: lastPage,
      path,
      per_page: request.perPage,
      to: from === null ? null : from + data.length - 1,
      total,
    },
  };
}

export function offsetOf(request: PageRequest): number {
  return (request.page - 1) * request.perPage;
}
