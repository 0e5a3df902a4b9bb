import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRegistry } from '../../src/container.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { ROOT } from '../support/processes.js';
import { parsePrometheus } from '../support/prometheus.js';

const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards');
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'time', 'by', 'without', 'le', 'on', 'ignoring', 'and', 'or', 'unless', 'offset']);

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}

/** The metric names a PromQL expression reads: label matchers, groupings, ranges and strings taken out. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][\w:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word));
}

describe('Grafana dashboards', () => {
  let t: TestApp;
  let exported: Set<string>;
  let closeJobs: () => Promise<void>;

  beforeAll(async () => {
    t = await createTestApp();
    // The worker's metrics exist once its job handlers are built.
    closeJobs = createJobRegistry(t.container, 'http://127.0.0.1:9/unused').close;
    const text = (await t.inject({ method: 'GET', url: '/metrics' })).body;
    parsePrometheus(text);
    // Every declared metric, sampled yet or not (a labelled counter shows no sample before its first increment).
    exported = new Set();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
      exported.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(`${name}${suffix}`);
    }
  });
  afterAll(async () => {
    await closeJobs();
    await t.close();
  });

  const files = fs.readdirSync(DASHBOARDS).filter((file) => file.endsWith('.json'));

  it('are provisioned from JSON files in the repository', () => {
    expect(files).toContain('intake-overview.json');
  });

  it.each(files)('%s parses, has a uid, and every panel queries only metrics that intake exports', (file) => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8')) as { uid: string; title: string; panels: Panel[] };
    expect(dashboard.uid).toMatch(/^[\w-]+$/);
    expect(dashboard.panels.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets!) {
        const names = metricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) expect(exported.has(name), `${panel.title} queries ${name}, which intake does not export`).toBe(true);
      }
    }
  });

  it('covers what operators watch: requests, orders, jobs, queue depth, third party, feed, images', () => {
    const queried = new Set(files.flatMap((file) => (JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8')) as { panels: Panel[] }).panels.flatMap((p) => (p.targets ?? []).flatMap((target) => metricNames(target.expr)))));
    for (const name of ['http_request_duration_seconds_bucket', 'orders_created_total', 'jobs_finished_total', 'queue_depth', 'third_party_duration_seconds_bucket', 'feed_runs_total', 'images_total', 'outbox_lag_seconds']) {
      expect(queried, name).toContain(name);
    }
  });
});
