import fs from 'node:fs/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';

const PUBLIC_DIR = new URL('./public/', import.meta.url);
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The page reads only the operator API of this origin; the token lives in the tab's sessionStorage, never in a URL. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  contentType: string;
}

/**
 * The operator dashboard at `/admin`: a static page and its scripts, read once at start, that
 * drive the operator API (`/api/admin/...`) with the operator's bearer token.
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const assets = await loadAssets();
  const send = (reply: FastifyReply, asset: Asset) => reply.headers(SECURITY_HEADERS).type(asset.contentType).send(asset.body);
  const index = assets.get('index.html')!;

  app.get('/admin', { schema: { hide: true } }, (_request, reply) => send(reply, index));
  app.get<{ Params: { file: string } }>('/admin/assets/:file', { schema: { hide: true } }, (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset || request.params.file === 'index.html') return reply.code(404).send({ message: 'Route not found.' });
    return send(reply, asset);
  });
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const name of await fs.readdir(PUBLIC_DIR)) {
    const contentType = CONTENT_TYPES[name.slice(name.lastIndexOf('.'))];
    if (contentType) assets.set(name, { body: await fs.readFile(new URL(name, PUBLIC_DIR)), contentType });
  }
  return assets;
}
