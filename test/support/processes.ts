import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/support/processes.ts). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN_JS = path.join(ROOT, 'dist/src/main.js');
export const CLI_JS = path.join(ROOT, 'dist/src/cli.js');

/** Throws a clear error when the build the end-to-end tests run against is missing. */
export function assertBuilt(): void {
  if (!fs.existsSync(MAIN_JS)) {
    throw new Error(`${path.relative(ROOT, MAIN_JS)} is missing: the process tests run the compiled app. Run \`npm run build\` first.`);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const OUTPUT_LIMIT = 64 * 1024;
const running = new Set<ManagedProcess>();

/** A child process whose output is kept (the tail) for failure messages and which is always killed at the end. */
export class ManagedProcess {
  readonly exited: Promise<Exit>;
  private tail = '';
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    running.add(this);
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        resolve(this.exit);
      });
      child.once('error', (error) => {
        keep(Buffer.from(`spawn error: ${error.message}\n`));
        if (child.exitCode === null && child.signalCode === null && child.pid === undefined) {
          this.exit = { code: null, signal: null };
          running.delete(this);
          resolve(this.exit);
        }
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  output(): string {
    return this.tail;
  }

  /** Sends `signal` (if still running) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit> {
    if (!this.hasExited) this.child.kill(signal);
    return this.exited;
  }

  /** The exit, or `undefined` when the process is still running after `ms`. */
  async exitWithin(ms: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  describe(): string {
    const state = this.exit ? `exited with code ${this.exit.code} signal ${this.exit.signal}` : 'running';
    return `${this.name} (pid ${this.pid ?? '?'}, ${state}) output:\n${this.tail || '(none)'}`;
  }
}

/** Starts `node <script>` with the environment of this process plus `env`. */
export function spawnNode(name: string, script: string, env: Record<string, string>, args: string[] = []): ManagedProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ManagedProcess(name, child);
}

/** SIGKILLs every child still running and waits for them; safe to call any number of times. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGKILL')));
}

// A test worker that dies without running afterAll must not leave servers behind.
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL');
});

/** Polls `GET url` until it answers 200; fails at once if `process` exits first. */
export async function waitUntilServing(managed: ManagedProcess, url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (managed.hasExited) throw new Error(`${managed.name} exited before serving ${url}\n${managed.describe()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${managed.name} did not serve ${url} within ${timeoutMs} ms\n${managed.describe()}`);
    await sleep(50);
  }
}

/** Polls `probe` until it returns a value other than `undefined`. */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: { timeoutMs: number; intervalMs?: number; what: string; diagnostics?: () => string }): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}${options.diagnostics ? `\n${options.diagnostics()}` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `node dist/src/cli.js <args>` to completion. */
export async function runCliProcess(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_JS, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode));
  }).finally(() => clearTimeout(timer));
  return { code, stdout, stderr };
}

/** Runs `node dist/src/cli.js <args>` to completion; rejects on a non-zero exit. */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<{ stdout: string }> {
  const { code, stdout, stderr } = await runCliProcess(args, env, timeoutMs);
  if (code !== 0) throw new Error(`cli ${args.join(' ')} exited with ${code}\n${stdout}${stderr}`);
  return { stdout };
}
