import path from 'node:path';

/** A verbatim 100-item excerpt of the live feed, kept in the repository. */
export const FEED100_FIXTURE = path.resolve(import.meta.dirname, '../fixtures/feed100.json');
