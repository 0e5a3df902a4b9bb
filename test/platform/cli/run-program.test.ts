import { Command, InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError, describeError } from '../../../src/platform/cli/cli-error.js';
import { intOption } from '../../../src/platform/cli/int-option.js';
import { addVerboseOption, runProgram } from '../../../src/platform/cli/run-program.js';
import { fakeCliIo } from '../../support/fake-cli-io.js';

function program(action: () => Promise<void>): Command {
  const root = addVerboseOption(new Command('intake'));
  root.command('fail').action(action);
  root.command('limit').option('--limit <n>', 'how many', intOption(1, 10), 5).action(() => undefined);
  return root;
}

describe('runProgram', () => {
  it('prints a failed command’s error once, on one line, without its stack', async () => {
    const io = fakeCliIo();
    const code = await runProgram(program(() => Promise.reject(new Error('database is locked'))), ['fail'], io, 'user');
    expect(code).toBe(1);
    expect(io.err()).toBe('error: database is locked\n');
    expect(io.out()).toBe('');
  });

  it('adds the stack and the cause with --verbose, before or after the command', async () => {
    for (const args of [['--verbose', 'fail'], ['fail', '--verbose']]) {
      const io = fakeCliIo();
      const code = await runProgram(program(() => Promise.reject(new Error('migration failed', { cause: new Error('disk full') }))), args, io, 'user');
      expect(code).toBe(1);
      const lines = io.err().split('\n');
      expect(lines[0]).toBe('error: migration failed');
      expect(io.err()).toMatch(/\n\s+at /);
      expect(io.err()).toContain('disk full');
      expect(io.err().match(/error: /g)).toHaveLength(1);
    }
  });

  it('prints a CliError as its message alone, even with --verbose, with its exit code', async () => {
    const io = fakeCliIo();
    const code = await runProgram(program(() => Promise.reject(new CliError('no user with email a@b.c', 3))), ['--verbose', 'fail'], io, 'user');
    expect(code).toBe(3);
    expect(io.err()).toBe('error: no user with email a@b.c\n');
  });

  it('leaves usage errors to commander, once, with a non-zero exit', async () => {
    for (const [args, message] of [
      [['nope'], "error: unknown command 'nope'\n"],
      [['limit', '--bogus'], "error: unknown option '--bogus'\n"],
      [['limit', '--limit', 'abc'], "error: option '--limit <n>' argument 'abc' is invalid. Expected a whole number from 1 to 10.\n"],
    ] as const) {
      const io = fakeCliIo();
      expect(await runProgram(program(async () => undefined), args, io, 'user')).toBe(1);
      expect(io.err()).toBe(message);
    }
  });

  it('exits 0 for --help', async () => {
    const io = fakeCliIo();
    expect(await runProgram(program(async () => undefined), ['--help'], io, 'user')).toBe(0);
    expect(io.out()).toContain('--verbose');
  });
});

describe('describeError', () => {
  it('says something for errors without a message of their own', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const refused6 = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    expect(describeError(new AggregateError([refused6, refused], ''))).toBe('connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
    expect(describeError(Object.assign(new Error(''), { code: 'ETIMEDOUT' }))).toBe('Error ETIMEDOUT');
    expect(describeError('plain')).toBe('plain');
  });
});

describe('intOption', () => {
  it('takes whole numbers in range and refuses the rest', () => {
    const parse = intOption(1, 1000);
    expect(parse('1')).toBe(1);
    expect(parse(' 1000 ')).toBe(1000);
    for (const bad of ['abc', '', '0', '1001', '1e3', '0x10', '2.5', '-3', '99999999999999999999']) expect(() => parse(bad)).toThrow(InvalidArgumentError);
  });
});
