#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ROLES, type Role } from './config.js';
import { startTracingFromEnvironment } from './app/instrument.js';

// `intake serve` runs a role and is traced as main.ts traces it: tracing starts before the
// commands module loads the libraries that its instrumentations hook into. No other command loads
// the OpenTelemetry SDK.
// Program options (--verbose) may come first: the command is the first argument that is not an option.
const commandAt = process.argv.findIndex((arg, i) => i >= 2 && !arg.startsWith('-'));
if (process.argv[commandAt] === 'serve') await startTracingFromEnvironment(servedRole(process.argv.slice(commandAt + 1)));
const { runCli } = await import('./app/cli-commands.js');
await runCli(process.argv);

/** The role of `serve [-r|--role <role>]`, for the service name; commander validates the arguments after. */
function servedRole(args: string[]): Role | undefined {
  const { role } = parseArgs({ args, options: { role: { type: 'string', short: 'r' } }, strict: false }).values;
  return (ROLES as readonly unknown[]).includes(role) ? (role as Role) : undefined;
}
