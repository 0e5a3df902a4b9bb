import { inject } from 'vitest';

/**
 * The start of the names of this run's template databases, which test/support/database-templates.global.ts
 * provides and removes after the run; `undefined` without that setup (every database is then migrated anew).
 */
export function templatePrefix(): string | undefined {
  try {
    return inject('databaseTemplatePrefix');
  } catch {
    return undefined;
  }
}
