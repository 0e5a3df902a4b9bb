import type { Command } from 'commander';
import { EmailTakenError, type AuthService } from './auth.service.js';

/** Runs `work` with an AuthService and releases whatever it was built on afterwards. */
export type WithAuth = <T>(work: (auth: AuthService) => Promise<T>) => Promise<T>;

/** Adds `users:create` and `tokens:create` to the CLI. */
export function registerAuthCommands(program: Command, withAuth: WithAuth, print: (value: unknown) => void): void {
  program
    .command('users:create')
    .description('create a user')
    .requiredOption('--name <name>')
    .requiredOption('--email <email>')
    .requiredOption('--password <password>')
    .action(async (options: { name: string; email: string; password: string }) => {
      await withAuth(async (auth) => {
        try {
          print(await auth.createUser(options));
        } catch (error) {
          if (!(error instanceof EmailTakenError)) throw error;
          process.stderr.write(`${error.message}\n`);
          process.exitCode = 1;
        }
      });
    });

  program
    .command('tokens:create')
    .description('issue a token for a user and print it as id|secret')
    .requiredOption('--email <email>')
    .option('--ability <ability>', 'an ability (orders, catalog:write, admin); repeatable', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--name <name>', 'token name', 'cli')
    .action(async (options: { email: string; ability: string[]; name: string }) => {
      await withAuth(async (auth) => {
        const token = await auth.createTokenForEmail(options.email, options.ability.length > 0 ? options.ability : ['orders'], options.name);
        if (!token) {
          process.stderr.write(`no user with email ${options.email}\n`);
          process.exitCode = 1;
          return;
        }
        print(token);
      });
    });
}
