import { Option, type Command } from 'commander';
import { CliError } from '../platform/cli/cli-error.js';
import { printJson, printLine, type CliIo } from '../platform/cli/cli-io.js';
import { ABILITIES } from '../platform/http/authentication.js';
import { DEFAULT_ABILITIES, EmailTakenError, type AuthService } from './auth.service.js';

/** Runs `work` with an AuthService and releases whatever it was built on afterwards. */
export type WithAuth = <T>(work: (auth: AuthService) => Promise<T>) => Promise<T>;

/** Adds `users:create` and `tokens:create` to the CLI. */
export function registerAuthCommands(program: Command, withAuth: WithAuth, io: CliIo): void {
  program
    .command('users:create')
    .description('create a user and print it as JSON')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--email <email>', 'login email (unique)')
    .requiredOption('--password <password>', 'login password (stored as an argon2id hash)')
    .action(async (options: { name: string; email: string; password: string }) => {
      const user = await withAuth((auth) =>
        auth.createUser(options).catch((error: unknown) => {
          throw error instanceof EmailTakenError ? new CliError(error.message) : error;
        }),
      );
      printJson(io, user);
    });

  program
    .command('tokens:create')
    .description('issue a token for a user and print it as id|secret')
    .requiredOption('--email <email>', 'the user’s email')
    .addOption(
      new Option('--ability <ability...>', 'what the token may do (repeatable; * is every ability)')
        .choices(ABILITIES)
        // Commander replaces the default with the first value given, then adds the others.
        .default([...DEFAULT_ABILITIES]),
    )
    .option('--name <name>', 'token name', 'cli')
    .action(async (options: { email: string; ability: string[]; name: string }) => {
      const token = await withAuth((auth) => auth.createTokenForEmail(options.email, [...new Set(options.ability)], options.name));
      if (!token) throw new CliError(`no user with email ${options.email}`);
      printLine(io, token);
    });
}
