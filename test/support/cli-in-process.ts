import { buildCli } from '../../src/app/cli-commands.js';
import { runProgram } from '../../src/platform/cli/run-program.js';
import { fakeCliIo } from './fake-cli-io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `intake <args>` in this process, as `node dist/src/cli.js <args>` would in its own: the
 * same program (`buildCli`), the same error handling (`runProgram`), `env` laid over this
 * process's environment while it runs. What is left out is the process itself: its exit code is
 * the one `runProgram` returns, and the app's own logs (`--verbose`, fd 2) are not captured.
 * Tests of the entry point, of exit codes or of stderr as a whole spawn it (`runCliProcess`).
 * Saves a Node start and the app's imports per command (1-2 s each on a busy machine).
 */
export async function runCliInProcess(args: string[], env: Record<string, string>): Promise<CliResult> {
  const io = fakeCliIo();
  // The CLI limits V8's heap growth of its process (HEAP_GROWTH_PERCENT): not the test worker's.
  const overrides: Record<string, string> = { HEAP_GROWTH_PERCENT: '0', ...env };
  const saved = new Map(Object.keys(overrides).map((key) => [key, process.env[key]]));
  Object.assign(process.env, overrides);
  try {
    const code = await runProgram(buildCli(io), ['node', 'intake', ...args], io);
    return { code, stdout: io.out(), stderr: io.err() };
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}
