#!/usr/bin/env node
import { ROLES, type Role } from './config.js';
import { startTracingFromEnvironment } from './app/instrument.js';

const role = process.argv[2];
if (role !== undefined && !(ROLES as readonly string[]).includes(role)) {
  process.stderr.write(`unknown role "${role}"; expected one of ${ROLES.join(', ')}\n`);
  process.exit(2);
}
// Tracing first: its instrumentations hook into the libraries before the app loads any of them.
const tracing = await startTracingFromEnvironment(role as Role | undefined);
const { run } = await import('./app/role-runner.js');
await run(role as Role | undefined, tracing);
