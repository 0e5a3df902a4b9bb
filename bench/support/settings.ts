import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Benchmarks run from dist/bench/*.js; this file is dist/bench/support/settings.js. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const MAIN_JS = path.join(ROOT, 'dist/src/main.js');
export const CLI_JS = path.join(ROOT, 'dist/src/cli.js');
export const RESULTS_DIR = path.join(ROOT, 'bench/results');
/** The V8 flags `npm start` and the image run intake with (README, "Node flags"): the benchmarks run it the same way. */
export const INTAKE_NODE_FLAGS = ['--max-semi-space-size=32'];
/** The environment that gives a started intake process those flags. */
export const intakeNodeOptions = () => ({ NODE_OPTIONS: [process.env.NODE_OPTIONS, ...INTAKE_NODE_FLAGS].filter(Boolean).join(' ') });

/** A whole-number setting from the environment, with a clear error when it is not one. */
export function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}
