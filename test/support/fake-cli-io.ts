import { PassThrough } from 'node:stream';
import type { CliIo } from '../../src/platform/cli/cli-io.js';

/** A CliIo that keeps what a command writes, with stdin a stream the test feeds (a terminal or not). */
export interface FakeCliIo extends CliIo {
  stdin: PassThrough & { isTTY?: boolean };
  out(): string;
  err(): string;
}

export function fakeCliIo(options: { tty?: boolean; columns?: number; answer?: string } = {}): FakeCliIo {
  let out = '';
  let err = '';
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  if (options.answer !== undefined) stdin.end(`${options.answer}\n`);
  else stdin.end();
  return {
    stdin,
    stdout: { write: (text: string) => (out += text), isTTY: options.columns !== undefined, columns: options.columns },
    stderr: { write: (text: string) => (err += text), isTTY: false },
    out: () => out,
    err: () => err,
  };
}
