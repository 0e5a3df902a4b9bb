import { CommanderError, type Command } from 'commander';
import { CliError, formatFailure } from './cli-error.js';
import type { CliIo } from './cli-io.js';

/** The global `--verbose` option: errors with their stack, and the app's logs on stderr. */
export function addVerboseOption(program: Command): Command {
  return program.option('--verbose', 'on failure, print the stack too; log to stderr while a command runs');
}

export function isVerbose(program: Command): boolean {
  return program.opts<{ verbose?: boolean }>().verbose === true;
}

/**
 * Runs the command `argv` names and returns its exit code. Every failure is written to stderr
 * exactly once: commander's usage errors as commander words them, any other error as one
 * `error: …` line (with the stack under `--verbose`). Nothing here exits the process.
 */
export async function runProgram(program: Command, argv: readonly string[], io: CliIo, from: 'node' | 'user' = 'node'): Promise<number> {
  routeThroughIo(program, io);
  try {
    await program.parseAsync(argv, { from });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    io.stderr.write(formatFailure(error, isVerbose(program)));
    return error instanceof CliError ? error.exitCode : 1;
  }
}

function routeThroughIo(command: Command, io: CliIo): void {
  command.exitOverride().configureOutput({
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
  });
  for (const sub of command.commands) routeThroughIo(sub, io);
}
