import readline from 'node:readline';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

export interface ConfirmRequest {
  /** What would happen, as the end of "refusing to …", e.g. "purge 1428 parked job(s) of orders.integration". */
  action: string;
  /** `--yes`: confirmed beforehand. */
  yes?: boolean;
}

/**
 * Goes on only when the operator agrees: `--yes`, or "y" answered on a terminal. Without a
 * terminal to ask on, it refuses, so that a script never destroys by default.
 */
export async function confirmOrRefuse(io: CliIo, request: ConfirmRequest): Promise<void> {
  if (request.yes) return;
  if (!io.stdin.isTTY) {
    throw new CliError(`refusing to ${request.action} without confirmation: stdin is not a terminal; pass --yes to go ahead, or --dry-run to see what it would do`);
  }
  const answer = await ask(io, `${request.action.charAt(0).toUpperCase()}${request.action.slice(1)}? [y/N] `);
  if (!/^\s*y(es)?\s*$/i.test(answer ?? '')) throw new CliError(`aborted: did not ${request.action}`);
}

/** One line read from stdin after `question` is shown on stderr; null when stdin ends first. */
export function ask(io: CliIo, question: string): Promise<string | null> {
  io.stderr.write(question);
  const lines = readline.createInterface({ input: io.stdin, terminal: false });
  return new Promise((resolve) => {
    lines.once('line', (line) => {
      resolve(line);
      lines.close();
    });
    lines.once('close', () => resolve(null));
  });
}
