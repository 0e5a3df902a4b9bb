import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { isServiceUp, serviceUrls } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The start of the names of this run's template databases (test/support/driver-databases.ts). */
    databaseTemplatePrefix: string;
  }
}

/** Named after this process, so that a run drops its own templates only, never those of a run beside it. */
const PREFIX = `intake_tpl_${process.pid}_`;

/**
 * Global setup: each test worker migrates a template database per engine, once, and copies it for
 * every migrated database a test asks for (test/support/driver-databases.ts, driver-sqlite.ts). The
 * templates outlive the test files, so they are dropped here, after the run, with any copy (named
 * after its template) that a killed worker could not drop.
 */
export default function setup(project: TestProject): () => Promise<void> {
  project.provide('databaseTemplatePrefix', PREFIX);
  return dropTemplates;
}

let dropped: Promise<void> | undefined;

/** Every project runs this setup and its teardown: the drop runs once. */
function dropTemplates(): Promise<void> {
  dropped ??= Promise.all([dropPostgres(), dropMysql(), removeSqlite()]).then(() => undefined);
  return dropped;
}

async function dropPostgres(): Promise<void> {
  if (!(await isServiceUp('postgres'))) return;
  const client = new pg.Client({ connectionString: serviceUrls.postgres });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select datname as name from pg_database');
    for (const { name } of rows) if (name.startsWith(PREFIX)) await client.query(`drop database if exists ${name} with (force)`);
  } finally {
    await client.end();
  }
}

async function dropMysql(): Promise<void> {
  if (!(await isServiceUp('mysql'))) return;
  const connection = await mysql.createConnection({ uri: serviceUrls.mysql });
  try {
    const [rows] = (await connection.query('select schema_name as name from information_schema.schemata')) as unknown as [Array<{ name: string }>];
    for (const { name } of rows) if (name.startsWith(PREFIX)) await connection.query(`drop database if exists ${name}`);
  } finally {
    await connection.end();
  }
}

/** A worker removes its SQLite template when it exits; one that was killed leaves it behind. */
async function removeSqlite(): Promise<void> {
  for (const name of fs.readdirSync(os.tmpdir())) if (name.startsWith(PREFIX)) fs.rmSync(path.join(os.tmpdir(), name), { force: true });
}
