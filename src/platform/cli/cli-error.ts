import { inspect } from 'node:util';

/** A failure the command has already put into words: printed as its message alone, never with a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The one line that says what went wrong. Some errors carry no message of their own: a connection
 * refused on every address of a host is an AggregateError whose message is empty.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) return [...new Set(error.errors.map(describeError))].join('; ');
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.name} ${code}` : error.name;
}

/** What stderr shows for a failed command: its error once, and with `verbose` the stack and causes as well. */
export function formatFailure(error: unknown, verbose: boolean): string {
  const line = `error: ${describeError(error)}\n`;
  if (!verbose || error instanceof CliError || !(error instanceof Error)) return line;
  return `${line}${inspect(error, { depth: 4 })}\n`;
}
