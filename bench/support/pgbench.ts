/**
 * The database's own ceilings for bench:orders' scale-out row (DESIGN.md §7, issue 11): pgbench
 * running bench/pgbench/order.sql (one order per transaction) and order-batch16.sql (16 orders
 * per transaction) against a fresh database on BENCH_POSTGRES_URL's server, in the same run as
 * the application rows. The database is created with setup.sql, vacuumed before every run (the
 * development machines' PostgreSQL runs with autovacuum off) and dropped at the end.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ensurePostgresDatabase } from './postgres.js';
import { trackChild } from './processes.js';
import { ROOT } from './settings.js';

export const PGBENCH_DIR = path.join(ROOT, 'bench/pgbench');

export interface PgbenchScript {
  /** The file under bench/pgbench/. */
  file: string;
  /** Orders one transaction of the script stores. */
  ordersPerTransaction: number;
}

export interface PgbenchRun {
  tps: number;
  ordersPerSecond: number;
  latencyAverageMs: number;
  transactions: number;
  failed: number;
  /** The command line, for the JSON. */
  command: string;
}

export interface PgbenchDatabase {
  url: string;
  /** VACUUM (ANALYZE) of the script's tables; call before every run. */
  vacuum(): Promise<void>;
  run(script: PgbenchScript, options: { clients: number; threads: number; durationS: number }): Promise<PgbenchRun>;
  drop(): Promise<void>;
}

/** Creates `<name>` on the server of `serverUrl` and runs setup.sql in it. */
export async function preparePgbenchDatabase(serverUrl: string, name: string): Promise<PgbenchDatabase> {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await ensurePostgresDatabase(url.toString());
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query('set client_min_messages = warning');
    await client.query(fs.readFileSync(path.join(PGBENCH_DIR, 'setup.sql'), 'utf8'));
  } finally {
    await client.end();
  }
  return {
    url: url.toString(),
    async vacuum() {
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      try {
        await c.query('vacuum (analyze) o, oi, ob, ik, tok');
      } finally {
        await c.end();
      }
    },
    run: (script, options) => runPgbench(url, script, options),
    async drop() {
      const admin = new URL(url);
      admin.pathname = '/postgres';
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

function runPgbench(url: URL, script: PgbenchScript, options: { clients: number; threads: number; durationS: number }): Promise<PgbenchRun> {
  const args = [
    '-h', url.hostname,
    '-p', url.port || '5432',
    '-U', decodeURIComponent(url.username || 'postgres'),
    '-n',
    '-f', path.join(PGBENCH_DIR, script.file),
    '-c', String(options.clients),
    '-j', String(options.threads),
    '-T', String(options.durationS),
    decodeURIComponent(url.pathname.slice(1)),
  ];
  const env = { ...process.env, ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}) };
  return new Promise((resolve, reject) => {
    const child = execFile('pgbench', args, { env, timeout: (options.durationS + 60) * 1000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`;
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output)?.[1];
      if (error || tps === undefined) {
        reject(new Error(`pgbench ${script.file} failed${error ? ` (${error.message.split('\n')[0]})` : ''}:\n${output.slice(-2000)}`));
        return;
      }
      const value = Number(tps);
      resolve({
        tps: value,
        ordersPerSecond: value * script.ordersPerTransaction,
        latencyAverageMs: Number(/latency average = ([\d.]+) ms/.exec(output)?.[1] ?? NaN),
        transactions: Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1] ?? NaN),
        failed: Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? 0),
        command: `pgbench ${args.join(' ')}`,
      });
    });
    trackChild(child);
  });
}
