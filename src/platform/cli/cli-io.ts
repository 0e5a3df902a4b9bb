/** Where a command reads its answers and writes its output; tests pass their own streams. */
export interface CliInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
}

export interface CliOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIo {
  stdin: CliInput;
  stdout: CliOutput;
  stderr: CliOutput;
}

/** The process's own streams, looked up only when a command uses them. */
export const processIo: CliIo = {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
};

/** The width a table may take: the terminal's, or 100 columns when stdout is not a terminal. */
export function outputWidth(output: CliOutput): number {
  return output.isTTY && output.columns && output.columns > 0 ? output.columns : 100;
}

export function printLine(io: CliIo, text: string): void {
  io.stdout.write(`${text}\n`);
}

/** `--json` output: the value alone on stdout, so that it parses whatever else the command said on stderr. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Commands that print a listing take `--json`. */
export interface JsonFlag {
  json?: boolean;
}

/**
 * A reader that stops early (`intake jobs:parked | head`) closes stdout: the command ends there,
 * quietly, as other Unix tools do, instead of dying on EPIPE with a stack.
 */
export function endQuietlyWhenStdoutCloses(stdout: NodeJS.WriteStream = process.stdout): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}
