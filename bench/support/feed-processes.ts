/**
 * Child processes of the feed benchmark: `node dist/src/cli.js …` and `node dist/src/main.js`
 * without a listener (ROLE=worker, METRICS_PORT=0), with their wall time and peak RSS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trackChild } from './processes.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The compiled preload that writes ru_maxrss on exit. */
const RSS_PRELOAD = path.join(HERE, 'feed-rss.js');
const OUTPUT_LIMIT = 32 * 1024;
const POLL_MS = 50;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From spawn to exit. */
  wallMs: number;
  /** Peak resident set size: getrusage's ru_maxrss written on exit, else the last VmHWM polled from /proc. */
  peakRssBytes: number | null;
  peakRssSource: 'rusage' | 'VmHWM' | 'none';
  /** The tail of stdout and stderr. */
  output: string;
}

export interface NodeProcess {
  name: string;
  child: ChildProcess;
  startedAt: number;
  exited: Promise<Exit>;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit. */
  stop(graceMs?: number): Promise<Exit>;
}

/** Reads VmHWM (peak RSS so far) of a live process; undefined once it is gone or off Linux. */
function vmHwmBytes(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `node <script> …args` with `env` over the bench's environment; `rssFile` is where the preload writes ru_maxrss. */
export function spawnNode(name: string, script: string, args: string[], env: Record<string, string>, rssFile: string): NodeProcess {
  fs.rmSync(rssFile, { force: true });
  const preload = fs.existsSync(RSS_PRELOAD) ? ['--import', pathToFileURL(RSS_PRELOAD).href] : [];
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...preload, script, ...args], {
    env: { ...process.env, ...env, BENCH_MAX_RSS_FILE: rssFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let polled = 0;
  const poll = setInterval(() => {
    if (child.pid !== undefined) polled = Math.max(polled, vmHwmBytes(child.pid) ?? 0);
  }, POLL_MS);

  const exited = new Promise<Exit>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearInterval(poll);
      const wallMs = performance.now() - startedAt;
      let rusage: number | undefined;
      try {
        rusage = Number(fs.readFileSync(rssFile, 'utf8'));
      } catch {
        rusage = undefined;
      }
      const fromRusage = rusage !== undefined && Number.isFinite(rusage) && rusage > 0;
      resolve({
        code,
        signal,
        wallMs,
        peakRssBytes: fromRusage ? rusage! : polled > 0 ? polled : null,
        peakRssSource: fromRusage ? 'rusage' : polled > 0 ? 'VmHWM' : 'none',
        output: tail,
      });
    };
    child.once('error', (error) => {
      tail += `\nspawn failed: ${error.message}`;
      finish(null, null);
    });
    // 'close' rather than 'exit': the output is complete by then.
    child.once('close', finish);
  });

  return {
    name,
    child,
    startedAt,
    exited,
    output: () => tail,
    async stop(graceMs = 15_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        void exited.then(() => clearTimeout(timer));
      }
      return exited;
    },
  };
}

/** Runs a child to its end; SIGKILLs it after `timeoutMs` (the exit then carries the signal). */
export async function runNode(name: string, script: string, args: string[], env: Record<string, string>, rssFile: string, timeoutMs: number): Promise<Exit> {
  const running = spawnNode(name, script, args, env, rssFile);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  try {
    return await running.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** What went wrong with a child that should have exited 0, for the problems list; undefined when it did. */
export function exitProblem(name: string, exit: Exit): string | undefined {
  if (exit.code === 0) return undefined;
  const lastLines = exit.output.trim().split('\n').slice(-8).join('\n      ');
  return `${name} exited with ${exit.signal ?? `code ${exit.code}`}:\n      ${lastLines}`;
}
