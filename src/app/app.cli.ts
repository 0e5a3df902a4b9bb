import { Option, type Command } from 'commander';
import { loadConfigFromEnvironment, ROLES, type Role } from '../config.js';
import { createDatabase } from '../platform/db/database.js';
import { migrateToLatest } from '../platform/db/migrate.js';
import { printLine, type CliIo } from '../platform/cli/cli-io.js';
import { databaseOptions } from './drivers.js';
import { startTracingFromEnvironment } from './instrument.js';

/** Adds `migrate` and `serve` to the CLI: the commands that set up and run the app itself. */
export function registerAppCommands(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('apply pending database migrations (never destructive)')
    .action(async () => {
      const config = loadConfigFromEnvironment();
      const database = createDatabase(databaseOptions(config));
      try {
        const applied = await migrateToLatest(database);
        printLine(io, applied.length > 0 ? `applied: ${applied.join(', ')}` : 'nothing to migrate');
      } finally {
        await database.close();
      }
    });

  program
    .command('serve')
    .description('run a role until SIGTERM/SIGINT')
    .addOption(new Option('-r, --role <role>', 'which role to run').choices(ROLES))
    .action(async (options: { role?: Role }) => {
      // Started already by the entry (cli.ts), before this module loaded the libraries that tracing hooks into.
      const tracing = await startTracingFromEnvironment(options.role);
      const { run } = await import('./role-runner.js');
      await run(options.role, tracing);
    });
}
