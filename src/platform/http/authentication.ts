import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { httpErrors } from './errors.js';
import { headerValues } from './headers.js';

export interface Principal {
  userId: number;
  tokenId: number;
  abilities: readonly string[];
}

/** Resolves a bearer token to its principal; implemented by the auth module. */
export interface TokenVerifier {
  verify(bearer: string): Promise<Principal | null>;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * Every ability a token can carry: what the routes require (`orders`, `catalog:write`, `admin`),
 * and `*`, which stands for all of them.
 */
export const ABILITIES = ['orders', 'catalog:write', 'admin', '*'] as const;
export type Ability = (typeof ABILITIES)[number];

export function hasAbility(principal: Principal, ability: string): boolean {
  return principal.abilities.includes('*') || principal.abilities.includes(ability);
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * An onRequest hook that requires a valid token (401) carrying `ability` (403). It runs before the
 * body is read, so that a client without a token never costs a parse. Two Authorization headers
 * are refused (400): Node would keep the first and drop the other unseen.
 */
export function requireToken(verifier: TokenVerifier, ability?: Exclude<Ability, '*'>): onRequestAsyncHookHandler {
  return async (request) => {
    if (headerValues(request, 'authorization').length > 1) throw httpErrors.repeatedHeader('Authorization');
    const token = bearerToken(request);
    const principal = token ? await verifier.verify(token) : null;
    if (!principal) throw httpErrors.unauthenticated();
    if (ability && !hasAbility(principal, ability)) throw httpErrors.forbidden();
    request.principal = principal;
  };
}

/** The principal that `requireToken` attached; a route without it is a programming error. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route is missing its requireToken onRequest hook');
  return request.principal;
}
