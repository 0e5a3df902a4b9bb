import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRegistry } from '../../src/app/container.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { ROOT } from '../support/processes.js';
import { parsePrometheus } from '../support/prometheus.js';
import { alloyLevelNames, alloyLogLabels, readDeployYaml, streamMatchers } from './deploy-files.js';

const DASHBOARDS = path.join(ROOT, 'deploy/grafana/dashboards');
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'time', 'by', 'without', 'le', 'on', 'ignoring', 'and', 'or', 'unless', 'offset']);

interface DatasourceRef {
  type: string;
  uid: string;
}

interface Target {
  expr: string;
  datasource?: DatasourceRef;
}

interface Panel {
  title: string;
  type: string;
  datasource?: DatasourceRef;
  targets?: Target[];
}

const provisioned = readDeployYaml<{ datasources: DatasourceRef[] }>('grafana/provisioning/datasources/datasources.yml').datasources;

/** The provisioned datasource a target queries: its own, or its panel's. */
function datasourceOf(panel: Panel, target: Target): DatasourceRef {
  const ref = target.datasource ?? panel.datasource;
  const found = provisioned.find((d) => d.uid === ref?.uid);
  if (!found || found.type !== ref?.type) throw new Error(`${panel.title} queries ${JSON.stringify(ref)}, which is not a provisioned datasource`);
  return found;
}

function prometheusExprs(panels: Panel[]): string[] {
  return panels.flatMap((panel) => (panel.targets ?? []).filter((target) => datasourceOf(panel, target).type === 'prometheus').map((target) => target.expr));
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

  it.each(files)('%s parses, has a uid, and every panel queries only metrics that intake exports and log labels that Alloy sets', (file) => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8')) as { uid: string; title: string; panels: Panel[] };
    expect(dashboard.uid).toMatch(/^[\w-]+$/);
    expect(dashboard.panels.length).toBeGreaterThan(0);
    const logLabels = alloyLogLabels();
    const levelNames = [...alloyLevelNames().values()];
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) {
        const { type } = datasourceOf(panel, target);
        if (type === 'prometheus') {
          const names = metricNames(target.expr);
          expect(names.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
          for (const name of names) expect(exported.has(name), `${panel.title} queries ${name}, which intake does not export`).toBe(true);
          continue;
        }
        expect(type, `${panel.title} queries a ${type} datasource`).toBe('loki');
        const matchers = streamMatchers(target.expr);
        expect(matchers.length, `${panel.title}: ${target.expr}`).toBeGreaterThan(0);
        for (const { label, op, value } of matchers) {
          expect(logLabels, `${panel.title} selects on ${label}, which Alloy does not set`).toContain(label);
          if (label !== 'level') continue;
          const wanted = op.endsWith('~') ? value.split('|') : [value];
          for (const level of wanted) expect(levelNames, `${panel.title}: level "${level}"`).toContain(level);
        }
      }
    }
  });

  it('covers what operators watch: requests, orders, jobs, queue depth, third party, feed, images, and the warnings and errors in the logs', () => {
    const panels = files.flatMap((file) => (JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8')) as { panels: Panel[] }).panels);
    const queried = new Set(prometheusExprs(panels).flatMap(metricNames));
    expect(panels.some((panel) => panel.type === 'logs' && panel.datasource?.type === 'loki')).toBe(true);
    for (const name of ['http_request_duration_seconds_bucket', 'orders_created_total', 'jobs_finished_total', 'queue_depth', 'third_party_duration_seconds_bucket', 'feed_runs_total', 'images_total', 'outbox_lag_seconds']) {
      expect(queried, name).toContain(name);
    }
  });
});
