import type { FastifyInstance } from 'fastify';
import type { TokenVerifier } from '../../platform/http/authentication.js';
import type { CatalogCaching } from './catalog.caching.js';
import { AliasBody, AliasPatchBody, AliasesQuery, type AliasBodyData, type AliasesQueryData } from './aliases.schemas.js';
import type { AliasesService } from './aliases.service.js';
import { resourceRoutes } from './catalog.resource.js';
import { AliasView } from './catalog.schemas.js';
import { presentAlias, type AliasViewData } from './pornstars.presenter.js';

export function aliasesRoutes(app: FastifyInstance, aliases: AliasesService, tokens: TokenVerifier, caching: CatalogCaching): void {
  resourceRoutes<AliasesQueryData, AliasBodyData, AliasViewData>(
    app,
    {
      path: '/pornstar-aliases',
      tag: 'pornstar-aliases',
      noun: 'Pornstar alias',
      plural: 'Pornstar aliases',
      view: AliasView,
      query: AliasesQuery,
      body: AliasBody,
      patchBody: AliasPatchBody,
      async list(query, page, ctx) {
        const { items, total } = await aliases.list({ pornstarId: query.pornstar_id, includeRemoved: ctx.includeRemoved }, page);
        return { items: items.map(presentAlias), total };
      },
      show: async (id, ctx) => presentAlias(await aliases.get(id, ctx.includeRemoved)),
      create: async (body) => presentAlias(await aliases.create(body)),
      update: async (id, body, _mode, ctx) => presentAlias(await aliases.update(id, body, ctx.includeRemoved, ctx.expect && ((row) => ctx.expect!(presentAlias(row))))),
      destroy: (id, ctx) => aliases.destroy(id, ctx.includeRemoved, ctx.expect && ((row) => ctx.expect!(presentAlias(row)))),
    },
    tokens,
    caching,
  );
}
