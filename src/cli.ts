#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ROLES, type Role } from './config.js';
import { startTracingFromEnvironment } from './app/instrument.js';

// `intake serve` runs a role and is traced as main.ts traces it: tracing starts before the
// commands module loads the libraries that its instrumentations hook into. No other command loads
// the OpenTelemetry SDK.
if (process.argv[2] === 'serve') await startTracingFromEnvironment(servedRole(process.argv.slice(3)));
const { runCli } = await import('./app/cli-commands.js');
await runCli(process.argv);

/** The role of `serve [-r|--role <role>]`, for the service name; commander validates the arguments after. */
function servedRole(args: string[]): Role | undefined {
  const { role } = parseArgs({ args, options: { role: { type: 'string', short: 'r' } }, strict: false }).values;
  return (ROLES as readonly unknown[]).includes(role) ? (role as Role) : undefined;
}
