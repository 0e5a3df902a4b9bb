import fs from 'node:fs';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { insertUser } from '../../../src/auth/users.repository.js';
import type { CatalogTables, ImageStatus } from '../../../src/catalog/catalog.tables.js';
import { API_PREFIX, catalogErrorFormatter, catalogRoutes, createCatalogCaching, createCatalogServices, type CatalogServices, type ImageClaimer } from '../../../src/catalog/api/index.js';
import { countCatalogChange } from '../../../src/catalog/catalog-versions.repository.js';
import type { PornstarViewData } from '../../../src/catalog/api/pornstars.schemas.js';
import { createContainer, type Container } from '../../../src/app/container.js';
import { sha256Hex } from '../../../src/platform/canonical-json.js';
import type { Executor } from '../../../src/platform/db/database.js';
import { buildApp } from '../../../src/platform/http/app.js';
import { VERSION } from '../../../src/app/version.js';
import { executorDialect } from '../../../src/platform/db/executor-dialect.js';
import { manualClock, type ManualClock } from '../../support/driver-clock.js';
import { testConfig } from '../../support/app.js';

/** One call of the image claimer: the URLs, and whether it ran inside a transaction. */
export interface Claim {
  urls: string[];
  inTransaction: boolean;
}

/** Records every claim; `failWith` makes the next claims throw, to test atomicity. */
export class FakeClaimer implements ImageClaimer {
  readonly claims: Claim[] = [];
  failWith: Error | null = null;

  async claim(trx: Executor, urls: string[]): Promise<number> {
    if (this.failWith) throw this.failWith;
    this.claims.push({ urls: [...urls], inTransaction: trx.isTransaction });
    return urls.length;
  }

  get urls(): string[] {
    return this.claims.flatMap((c) => c.urls);
  }

  reset(): void {
    this.claims.length = 0;
    this.failWith = null;
  }
}

export interface CatalogTestApp {
  app: FastifyInstance;
  container: Container;
  services: CatalogServices;
  claimer: FakeClaimer;
  clock: ManualClock;
  db: Kysely<CatalogTables>;
  /** Headers with a `catalog:write` token. */
  writer: Record<string, string>;
  /** Headers with a valid token that lacks `catalog:write`. */
  reader: Record<string, string>;
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  get(path: string): Promise<LightMyRequestResponse>;
  /** A write as JSON, with the `catalog:write` token unless `headers` say otherwise. */
  send(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** Marks the image of `url` cached (or another status), as the image pipeline would. */
  image(url: string, status: ImageStatus, sha256?: string, ext?: string): Promise<void>;
  close(): Promise<void>;
}

let seq = 0;

/** The catalog API alone on a migrated temp SQLite database, with a fake image claimer. */
export async function createCatalogTestApp(): Promise<CatalogTestApp> {
  const config = await testConfig();
  const clock = manualClock();
  const container = await createContainer(config, { logger: pino({ level: 'silent' }), clock });
  const claimer = new FakeClaimer();
  const services = createCatalogServices({ database: container.database, images: claimer, clock });
  const app = await buildApp({
    logger: container.logger,
    bodyLimitBytes: config.bodyLimitBytes,
    version: VERSION,
    readiness: [],
    plugins: [
      (scope) =>
        catalogRoutes(scope, {
          catalog: services,
          tokens: container.auth,
          version: VERSION,
          caching: createCatalogCaching({ database: container.database, clock, cacheControl: config.catalogCacheControl, maxBytes: config.catalogResponseCacheBytes, recheckMs: config.catalogVersionRecheckMs }),
          imageVariantWidths: config.images.variantWidths,
        }),
    ],
    errorFormatters: [{ prefix: API_PREFIX, formatter: catalogErrorFormatter }],
  });
  await app.ready();

  const user = await insertUser(container.database.db, {
    name: 'catalog',
    email: `catalog-${++seq}@example.test`,
    password_hash: 'not-a-real-hash',
    created_at: clock.now(),
    updated_at: clock.now(),
  });
  const writeToken = await container.auth.createToken(user.id, 'test', ['catalog:write']);
  const readToken = await container.auth.createToken(user.id, 'test', ['orders']);
  const inject = (options: InjectOptions) => app.inject(options);
  const db = container.database.db as Kysely<CatalogTables>;

  return {
    app,
    container,
    services,
    claimer,
    clock,
    db,
    writer: { authorization: `Bearer ${writeToken}` },
    reader: { authorization: `Bearer ${readToken}` },
    inject,
    get: (path) => inject({ method: 'GET', url: `${API_PREFIX}${path}` }),
    send(method, path, payload, headers = { authorization: `Bearer ${writeToken}` }) {
      // Always JSON, even for a payload that is a bare string or number.
      const json = payload === undefined ? {} : { payload: JSON.stringify(payload), headers: { ...headers, 'content-type': 'application/json' } };
      return inject({ method, url: `${API_PREFIX}${path}`, headers, ...json });
    },
    async image(url, status, sha256 = sha256Hex(`bytes of ${url}`), ext = 'jpg') {
      const now = clock.now();
      const changes = { status, sha256: status === 'cached' ? sha256 : null, ext: status === 'cached' ? ext : null, state_seq: null };
      const insert = db
        .insertInto('images')
        .values({ url, url_hash: sha256Hex(url), ...changes, content_type: null, bytes: null, last_error: null, fetched_at: null, created_at: now, updated_at: now });
      await (executorDialect(db) === 'mysql' ? insert.onDuplicateKeyUpdate(changes) : insert.onConflict((oc) => oc.column('url_hash').doUpdateSet(changes))).execute();
      await countCatalogChange(db, now);
    },
    async close() {
      await app.close();
      await container.close().catch(() => undefined);
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}

/** A valid flat pornstar body, as the seed's Postman collection sends it; `overrides` replace fields. */
export function pornstarBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const n = ++seq;
  return {
    external_id: `ext-${n}`,
    name: `Performer ${n}`,
    link: `https://example.test/pornstar/${n}`,
    license: 'REGULAR',
    wl_status: true,
    hair_color: 'Blonde',
    ethnicity: 'White',
    has_tattoos: false,
    has_piercings: true,
    breast_size: 'C',
    breast_type: 'Natural',
    gender: 'female',
    orientation: 'straight',
    age: 30,
    subscriptions: 100,
    monthly_searches: 2000,
    views: 30000,
    videos_count: 10,
    premium_videos_count: 2,
    white_label_video_count: 1,
    rank: 50,
    rank_premium: 60,
    rank_wl: 70,
    aliases: [{ alias: `Alias ${n}` }],
    thumbnails: [{ type: 'pc', width: 234, height: 344, urls: [{ url: `https://cdn.example.test/${n}/pc.jpg`, local_path: null }] }],
    ...overrides,
  };
}

export interface EnvelopeBody<T = unknown> {
  success: boolean;
  message: string;
  data: T;
  errors: Record<string, string[]> | null;
  links?: { first: string; last: string; prev: string | null; next: string | null };
  meta?: { current_page: number; from: number | null; last_page: number; path: string; per_page: number; to: number | null; total: number };
}

export function body<T = Record<string, unknown>>(response: LightMyRequestResponse): EnvelopeBody<T> {
  return response.json<EnvelopeBody<T>>();
}

/** Creates a pornstar through the API and returns its resource. */
export async function createPornstar(t: CatalogTestApp, overrides: Record<string, unknown> = {}): Promise<PornstarViewData> {
  const res = await t.send('POST', '/pornstars', pornstarBody(overrides));
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return body<PornstarViewData>(res).data;
}
