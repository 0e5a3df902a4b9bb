/** The catalog REST API: what the composition root wires. */
export { catalogRoutes, createCatalogServices, type CatalogRoutesDeps, type CatalogServices } from './catalog.routes.js';
export { catalogErrorFormatter } from './catalog.envelope.js';
export { createCatalogCaching, type CatalogCaching } from './catalog.caching.js';
export { API_PREFIX, WRITE_ABILITY } from './catalog.resource.js';
export type { CatalogServiceDeps, ImageClaimer } from './catalog.sync.js';
