import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../platform/clock.js';
import { entityTagOf, httpDate, noneMatch, parseHttpDate } from '../../platform/http/entity-tags.js';
import type { Database } from '../../platform/db/database.js';
import { readCatalogVersion, type CatalogVersion } from '../catalog-versions.repository.js';
import { baseUrl } from './catalog.params.js';

export interface CatalogCachingOptions {
  /** The catalog's version, read where the listings are read (the replica, if any): never newer than what they show. */
  version: () => Promise<CatalogVersion>;
  /** CATALOG_CACHE_CONTROL. */
  cacheControl: string;
  clock: Clock;
  /** How many answers' tags are remembered (the least recently used go first). */
  maxRemembered?: number;
}

const DEFAULT_REMEMBERED = 10_000;

/** The caching of a deployment's catalog: its version read where listings are read, its Cache-Control. */
export function createCatalogCaching(deps: { database: Database; clock: Clock; cacheControl: string }): CatalogCaching {
  return new CatalogCaching({ version: () => deps.database.readStale(readCatalogVersion), cacheControl: deps.cacheControl, clock: deps.clock });
}

/**
 * HTTP validators for the catalog's reads. A response's ETag is the hash of its content, so it
 * changes exactly when the content does. Computing it needs the content, so each answer's tag is
 * also remembered with the catalog version it was computed at: a conditional request at the same
 * version is answered 304 from that alone, with one small query and no listing read. Every write
 * counts a change of the version in its transaction, and the version is read before the content,
 * so a remembered tag is never older than its version.
 */
export class CatalogCaching {
  private readonly tags = new Map<string, { version: string; tag: string }>();

  constructor(private readonly o: CatalogCachingOptions) {}

  /** The catalog's version now; the handler passes it to its read (the list's total is cached per version). */
  version(): Promise<CatalogVersion> {
    return this.o.version();
  }

  /**
   * Answers a GET conditionally: 304 when the client's copy is current (If-None-Match, or
   * If-Modified-Since without it), otherwise `produce`'s content with its ETag. Every answer
   * carries Cache-Control, and Last-Modified once the second of the last change is over (a date
   * to the second cannot tell two changes within one apart).
   */
  async read<T>(request: FastifyRequest, reply: FastifyReply, produce: (version: CatalogVersion) => Promise<T>): Promise<T | undefined> {
    const version = await this.o.version();
    const key = `${baseUrl(request)}${request.url}`;
    const ifNoneMatch = request.headers['if-none-match'];
    reply.header('cache-control', this.o.cacheControl);
    const lastModified = this.lastModifiedOf(version);
    if (lastModified !== undefined) reply.header('last-modified', httpDate(lastModified));
    const known = this.known(key, version.version);
    if (known !== undefined) reply.header('etag', known);
    const modifiedSince = parseHttpDate(request.headers['if-modified-since']);
    const unmodified = ifNoneMatch === undefined ? lastModified !== undefined && modifiedSince !== undefined && lastModified <= modifiedSince : known !== undefined && !noneMatch(ifNoneMatch, known);
    if (unmodified) return this.notModified(reply);

    const content = await produce(version);
    const tag = entityTagOf(content);
    this.remember(key, version.version, tag);
    reply.header('etag', tag);
    if (!noneMatch(ifNoneMatch, tag)) return this.notModified(reply);
    return content;
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

  private known(key: string, version: string): string | undefined {
    const entry = this.tags.get(key);
    if (!entry || entry.version !== version) return undefined;
    // Most recently used last: the first key is the one to evict.
    this.tags.delete(key);
    this.tags.set(key, entry);
    return entry.tag;
  }

  private remember(key: string, version: string, tag: string): void {
    this.tags.delete(key);
    this.tags.set(key, { version, tag });
    if (this.tags.size > (this.o.maxRemembered ?? DEFAULT_REMEMBERED)) this.tags.delete(this.tags.keys().next().value!);
  }
}
