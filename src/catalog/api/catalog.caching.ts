import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import type { Clock } from '../../platform/clock.js';
import type { Database } from '../../platform/db/database.js';
import { entityTagOf, httpDate, noneMatch, parseHttpDate } from '../../platform/http/entity-tags.js';
import { onCatalogChange, readCatalogVersion, type CatalogVersion } from '../catalog-versions.repository.js';
import { baseUrl } from './catalog.params.js';

/** A body serializer compiled ahead of the first request (fast-json-stringify), for answers not worth compiling on the request path. */
export type Serializer = (content: unknown) => string;

export interface CatalogCachingOptions {
  /** The catalog's version, read where the listings are read (the replica, if any): never newer than what they show. */
  version: () => Promise<CatalogVersion>;
  /** CATALOG_CACHE_CONTROL. */
  cacheControl: string;
  /** CATALOG_RESPONSE_CACHE_MB, in bytes: how much of the answers' bodies this process keeps (0: only their tags). */
  maxBytes: number;
  /**
   * CATALOG_VERSION_RECHECK_MS: how long a read version is trusted before it is read again (0:
   * read on every request). A write of this process is seen at once; another process's within it.
   */
  recheckMs: number;
  clock: Clock;
}

/** After a write of this process, the version is read on every request for at least this long. */
const MIN_UNCERTAIN_MS = 1_000;
/** Answers remembered at most, bodies or not (the least recently used go first). */
const MAX_ANSWERS = 10_000;

interface Answer {
  version: string;
  tag: string;
  /** The serialized body, when it fits the budget. */
  body?: string;
}

/** The caching of a deployment's catalog: its version read where listings are read, its Cache-Control and budget. */
export function createCatalogCaching(deps: { database: Database; clock: Clock; cacheControl: string; maxBytes: number; recheckMs: number }): CatalogCaching {
  const caching = new CatalogCaching({ ...deps, version: () => deps.database.readStale(readCatalogVersion) });
  onCatalogChange(() => caching.changed());
  return caching;
}

/**
 * HTTP validators and an answer cache for the catalog's reads. A response's ETag is the hash of
 * its body, so it changes exactly when the body does. Each answer is remembered (its tag, and its
 * body within the budget) with the catalog version it was computed at, which every catalog write
 * changes in its own transaction: a request at the same version is answered from memory, a 304 or
 * the body, after one small query. The version is read before the content, so a remembered
 * answer is never older than its version.
 */
export class CatalogCaching {
  private readonly answers = new Map<string, Answer>();
  private bytes = 0;
  private known: { version: CatalogVersion; readAt: number } | undefined;
  /** Until then the version is read on every request: a write of this process may be committing. */
  private uncertainUntil = 0;

  constructor(private readonly o: CatalogCachingOptions) {}

  /** This process is writing to the catalog: read the version anew until the write has surely committed or the recheck has passed. */
  changed(): void {
    this.known = undefined;
    this.uncertainUntil = this.o.clock.now() + Math.max(this.o.recheckMs, MIN_UNCERTAIN_MS);
  }

  private async version(): Promise<CatalogVersion> {
    const now = this.o.clock.now();
    if (this.known && now - this.known.readAt < this.o.recheckMs && now >= this.uncertainUntil) return this.known.version;
    const version = await this.o.version();
    this.known = { version, readAt: now };
    return version;
  }

  /**
   * Answers a GET: 304 when the client's copy is current (If-None-Match, or If-Modified-Since
   * without it), otherwise the body, from memory or from `produce`, with its ETag. Every answer
   * carries Cache-Control, and Last-Modified once the second of the last change is over (a date
   * to the second cannot tell two changes within one apart). `produce`'s content is serialized
   * with `schema` (or a serializer compiled ahead), or the route's 200 schema.
   */
  async read(request: FastifyRequest, reply: FastifyReply, produce: (version: CatalogVersion) => Promise<unknown>, schema?: TSchema | Serializer): Promise<string | undefined> {
    const version = await this.version();
    const key = `${baseUrl(request)}${request.url}`;
    const ifNoneMatch = request.headers['if-none-match'];
    reply.header('cache-control', this.o.cacheControl);
    const lastModified = this.lastModifiedOf(version);
    if (lastModified !== undefined) reply.header('last-modified', httpDate(lastModified));
    const modifiedSince = parseHttpDate(request.headers['if-modified-since']);
    const unmodifiedSince = ifNoneMatch === undefined && lastModified !== undefined && modifiedSince !== undefined && lastModified <= modifiedSince;

    const current = (tag: string) => (ifNoneMatch === undefined ? unmodifiedSince : !noneMatch(ifNoneMatch, tag));
    const known = this.recall(key, version.version);
    if (known) reply.header('etag', known.tag);
    if (known ? current(known.tag) : unmodifiedSince) return this.notModified(reply);
    if (known?.body !== undefined) return this.json(reply, known.body);

    const content = await produce(version);
    const body =
      typeof schema === 'function'
        ? schema(content)
        : schema
          ? reply.serializeInput(content as Record<string, unknown>, schema as unknown as Record<string, unknown>)
          : (reply.serialize(content) as string);
    const tag = entityTagOf(body);
    this.remember(key, { version: version.version, tag, body });
    reply.header('etag', tag);
    return current(tag) ? this.notModified(reply) : this.json(reply, body);
  }

  private json(reply: FastifyReply, body: string): string {
    void reply.type('application/json; charset=utf-8');
    return body;
  }

  /** The last change's time, floored to its second, once that second is over; undefined before. */
  private lastModifiedOf(version: CatalogVersion): number | undefined {
    const second = Math.floor(version.changedAt / 1000) * 1000;
    return this.o.clock.now() >= second + 1000 ? second : undefined;
  }

  private notModified(reply: FastifyReply): undefined {
    void reply.code(304).send();
    return undefined;
  }

  private recall(key: string, version: string): Answer | undefined {
    const answer = this.answers.get(key);
    if (!answer) return undefined;
    this.forget(key, answer);
    if (answer.version !== version) return undefined;
    // Most recently used last: the first key is the one to evict.
    this.answers.set(key, answer);
    this.bytes += answer.body?.length ?? 0;
    return answer;
  }

  private remember(key: string, answer: Answer): void {
    const previous = this.answers.get(key);
    if (previous) this.forget(key, previous);
    const fits = (answer.body?.length ?? 0) <= this.o.maxBytes;
    const kept = fits ? answer : { version: answer.version, tag: answer.tag };
    this.answers.set(key, kept);
    this.bytes += kept.body?.length ?? 0;
    for (const [oldest, evicted] of this.answers) {
      if (this.bytes <= this.o.maxBytes && this.answers.size <= MAX_ANSWERS) break;
      this.forget(oldest, evicted);
    }
  }

  private forget(key: string, answer: Answer): void {
    this.answers.delete(key);
    this.bytes -= answer.body?.length ?? 0;
  }
}
