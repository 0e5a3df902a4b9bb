import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { faviconIco, faviconSvg, type Icon } from './favicon.js';

export interface IndexLink {
  rel: string;
  href: string;
  title: string;
}

export interface RootRoutesOptions {
  name: string;
  version: string;
  /** Links beyond the platform's own, e.g. a module's page. */
  links?: IndexLink[];
}

/** The platform's pages, listed when this app serves them (the docs only where they are on, `/metrics` only with metrics). */
const PLATFORM_LINKS: IndexLink[] = [
  { rel: 'docs', href: '/docs', title: 'API documentation (Swagger UI)' },
  { rel: 'openapi', href: '/openapi.json', title: 'OpenAPI document' },
  { rel: 'health', href: '/health', title: 'Liveness' },
  { rel: 'ready', href: '/ready', title: 'Readiness of the backing services' },
  { rel: 'metrics', href: '/metrics', title: 'Prometheus metrics' },
];

/** The favicon changes only with a release: a year, revalidated by its ETag afterwards. */
const ICON_CACHE = 'public, max-age=31536000';
const STYLE = 'body{font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1d2330}h1 small{color:#6b7385;font-weight:normal}a{color:#2456c7}';
const HTML_HEADERS = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};

/**
 * `GET /`: the service's name, version and where to go next, as JSON, or as a small HTML page for a
 * client that prefers `text/html` (a browser). `/favicon.ico` and `/favicon.svg` serve its icon.
 */
export async function rootRoutes(app: FastifyInstance, options: RootRoutesOptions): Promise<void> {
  let links: IndexLink[] | undefined;
  // Every plugin is registered by the first request: only then is it known which pages exist.
  const served = () => (links ??= [...PLATFORM_LINKS, ...(options.links ?? [])].filter((link) => app.hasRoute({ method: 'GET', url: link.href })));

  app.get('/', { schema: { hide: true } }, (request, reply) => {
    reply.header('vary', 'accept');
    if (prefersHtml(request.headers.accept)) return reply.headers(HTML_HEADERS).type('text/html; charset=utf-8').send(indexPage(options, served()));
    return reply.header('cache-control', 'no-cache').send({ name: options.name, version: options.version, links: served() });
  });

  const icons: Record<string, Icon> = { '/favicon.ico': faviconIco(), '/favicon.svg': faviconSvg() };
  for (const [url, icon] of Object.entries(icons)) app.get(url, { schema: { hide: true } }, (request, reply) => sendIcon(request, reply, icon));
}

function sendIcon(request: FastifyRequest, reply: FastifyReply, icon: Icon) {
  reply.headers({ 'cache-control': ICON_CACHE, etag: icon.etag, 'x-content-type-options': 'nosniff' });
  if (request.headers['if-none-match']?.split(',').some((tag) => tag.trim() === icon.etag)) return reply.code(304).send();
  return reply.type(icon.contentType).send(icon.body);
}

/** Whether `accept` ranks `text/html` above `application/json`; a tie (a wildcard, or no header at all) is JSON. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(',').map((part) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    return { range: range.trim(), quality: Number.isFinite(quality) ? quality : 0 };
  });
  const qualityOf = (type: string) => {
    const [major] = type.split('/');
    // The most specific range that matches decides (RFC 9110 §12.5.1).
    const match = ranges.find((r) => r.range === type) ?? ranges.find((r) => r.range === `${major}/*`) ?? ranges.find((r) => r.range === '*/*');
    return match?.quality ?? 0;
  };
  const html = qualityOf('text/html');
  return html > 0 && html > qualityOf('application/json');
}

function indexPage(options: RootRoutesOptions, links: IndexLink[]): string {
  const items = links.map((link) => `<li><a href="${escape(link.href)}">${escape(link.href)}</a> — ${escape(link.title)}</li>`).join('');
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escape(options.name)} ${escape(options.version)}</title>`,
    '<link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="icon" href="/favicon.ico" sizes="32x32">',
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escape(options.name)} <small>${escape(options.version)}</small></h1><ul>${items}</ul></body></html>`,
  ].join('');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
