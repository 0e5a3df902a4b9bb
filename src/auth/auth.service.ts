import type { Logger } from 'pino';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { isUniqueViolation } from '../platform/db/errors.js';
import { ValidationError } from '../platform/errors/domain-errors.js';
import type { Principal, TokenVerifier } from '../platform/http/authentication.js';
import type { UserRow } from './auth.tables.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { tokenCacheKey, type TokenCache } from './token-cache.js';
import type { TokenUsageRecorder } from './token-usage.recorder.js';
import { deleteToken, findTokenByHash, findTokenById, insertToken } from './tokens.repository.js';
import { formatToken, generateSecret, hashesMatch, hashSecret, parseToken } from './tokens.js';
import { findUserByEmail, findUserById, insertUser } from './users.repository.js';

export const DEFAULT_ABILITIES = ['orders'];

export interface PublicUser {
  id: number;
  name: string;
  email: string;
  created_at: string;
}

export class EmailTakenError extends ValidationError {
  constructor() {
    super({ email: ['The email has already been taken.'] });
    this.name = 'EmailTakenError';
  }
}

export interface AuthDeps {
  database: Database;
  clock: Clock;
  logger: Logger;
  /** Failed logins per account. */
  throttle: LoginThrottle;
  /** Tokens verified a moment ago. */
  tokenCache: TokenCache;
  /** Writes `last_used_at` in the background. */
  tokenUsage: TokenUsageRecorder;
}

export type LoginOutcome =
  | { kind: 'ok'; user: PublicUser; token: string }
  | { kind: 'invalid' }
  /** The account failed too often: it may try again in `retryAfterMs`. */
  | { kind: 'throttled'; retryAfterMs: number };

export class AuthService implements TokenVerifier {
  /** Token rows being read, by cache key: the requests that miss together share one read. */
  private readonly tokenReads = new Map<string, { generation: number; read: Promise<Principal | null> }>();

  constructor(private readonly deps: AuthDeps) {}

  async register(input: { name: string; email: string; password: string }): Promise<{ user: PublicUser; token: string }> {
    const passwordHash = await hashPassword(input.password);
    const now = this.deps.clock.now();
    try {
      return await this.deps.database.transaction(async (trx) => {
        const user = await insertUser(trx, { name: input.name, email: normalizeEmail(input.email), password_hash: passwordHash, created_at: now, updated_at: now });
        const token = await this.issueToken(trx, user.id, 'auth', DEFAULT_ABILITIES);
        return { user: toPublicUser(user), token };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
  }

  /** A new token for the right password; an account that failed too often is refused before its password is checked. */
  async login(email: string, password: string): Promise<LoginOutcome> {
    const account = normalizeEmail(email);
    const { throttle } = this.deps;
    const retryAfterMs = await throttle.lockedFor(account);
    if (retryAfterMs > 0) return { kind: 'throttled', retryAfterMs };
    const user = await findUserByEmail(this.deps.database.db, account);
    if (!(await verifyPassword(user?.password_hash, password)) || !user) {
      await throttle.failed(account);
      return { kind: 'invalid' };
    }
    await throttle.succeeded(account);
    const token = await this.createToken(user.id, 'auth', DEFAULT_ABILITIES);
    return { kind: 'ok', user: toPublicUser(user), token };
  }

  async logout(principal: Principal): Promise<void> {
    await deleteToken(this.deps.database.db, principal.tokenId);
    this.deps.tokenCache.evictToken(principal.tokenId);
    this.deps.tokenUsage.forget(principal.tokenId);
  }

  async currentUser(principal: Principal): Promise<PublicUser | null> {
    const user = await findUserById(this.deps.database.db, principal.userId);
    return user ? toPublicUser(user) : null;
  }

  async createUser(input: { name: string; email: string; password: string }): Promise<PublicUser> {
    const now = this.deps.clock.now();
    try {
      const user = await insertUser(this.deps.database.db, {
        name: input.name,
        email: normalizeEmail(input.email),
        password_hash: await hashPassword(input.password),
        created_at: now,
        updated_at: now,
      });
      return toPublicUser(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTakenError();
      throw error;
    }
  }

  async createTokenForEmail(email: string, abilities: string[], name = 'cli'): Promise<string | null> {
    const user = await findUserByEmail(this.deps.database.db, normalizeEmail(email));
    return user ? this.createToken(user.id, name, abilities) : null;
  }

  createToken(userId: number, name: string, abilities: string[]): Promise<string> {
    return this.deps.database.transaction((trx) => this.issueToken(trx, userId, name, abilities));
  }

  /**
   * Reads the token's row unless it was verified a moment ago; writes nothing. Concurrent requests
   * with one token share one read, and a token in steady use is read again in the background
   * half-way through its cache entry's life, so that its entry never lapses under load (a lapse
   * would send every request in flight to the database at once).
   */
  async verify(bearer: string): Promise<Principal | null> {
    const parsed = parseToken(bearer);
    if (!parsed) return null;
    const hash = hashSecret(parsed.secret);
    const { tokenCache, tokenUsage, clock } = this.deps;
    const key = tokenCacheKey(parsed.id, hash);
    const cached = tokenCache.lookup(key);
    if (!cached) return this.readTokenOnce(key, parsed.id, hash);
    tokenUsage.record(cached.principal.tokenId, clock.now());
    if (cached.refreshDue) {
      this.readTokenOnce(key, parsed.id, hash).catch((error: unknown) => this.deps.logger.debug({ err: error }, 'could not refresh a cached token; its entry lapses as usual'));
    }
    return cached.principal;
  }

  private readTokenOnce(key: string, tokenId: number | null, hash: string): Promise<Principal | null> {
    const generation = this.deps.tokenCache.currentGeneration;
    const running = this.tokenReads.get(key);
    if (running && running.generation === generation) return running.read;
    const read = this.readToken(key, tokenId, hash).finally(() => {
      if (this.tokenReads.get(key)?.read === read) this.tokenReads.delete(key);
    });
    this.tokenReads.set(key, { generation, read });
    return read;
  }

  private async readToken(key: string, tokenId: number | null, hash: string): Promise<Principal | null> {
    const { tokenCache, tokenUsage, clock } = this.deps;
    const mark = tokenCache.mark();
    const db = this.deps.database.db;
    const row = tokenId === null ? await findTokenByHash(db, hash) : await findTokenById(db, tokenId);
    const now = clock.now();
    if (!row || !hashesMatch(row.token_hash, hash) || (row.expires_at !== null && row.expires_at <= now)) {
      tokenCache.forget(key);
      return null;
    }
    const abilities = Object.freeze(JSON.parse(row.abilities) as string[]);
    const principal: Principal = Object.freeze({ userId: row.user_id, tokenId: row.id, abilities });
    tokenCache.set(key, principal, mark, row.expires_at);
    tokenUsage.record(row.id, now, row.last_used_at);
    return principal;
  }

  private async issueToken(db: Parameters<typeof insertToken>[0], userId: number, name: string, abilities: string[]): Promise<string> {
    const secret = generateSecret();
    const now = this.deps.clock.now();
    const id = await insertToken(db, {
      user_id: userId,
      name,
      token_hash: hashSecret(secret),
      abilities: JSON.stringify(abilities),
      last_used_at: null,
      expires_at: null,
      created_at: now,
      updated_at: now,
    });
    return formatToken(id, secret);
  }
}

function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toPublicUser(user: UserRow): PublicUser {
  return { id: user.id, name: user.name, email: user.email, created_at: new Date(user.created_at).toISOString() };
}
