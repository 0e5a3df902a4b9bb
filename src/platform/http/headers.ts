import type { FastifyRequest } from 'fastify';

/**
 * Every value the client sent for header `name`, one per header line. Node joins repeated
 * headers ("a, b") or keeps only the first (Authorization), so `request.headers` cannot tell.
 */
export function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === wanted.length && raw[i]!.toLowerCase() === wanted) values.push(raw[i + 1]!);
  }
  return values;
}
