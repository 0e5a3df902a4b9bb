import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/processes.js';
import { child, component, parseAlloy, type AlloyBlock } from './alloy-syntax.js';

export interface ComposeService {
  profiles?: string[];
  ports?: string[];
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test: unknown };
  restart?: string;
}

export function readDeployFile(relative: string): string {
  return fs.readFileSync(path.join(ROOT, 'deploy', relative), 'utf8');
}

export function readDeployYaml<T>(relative: string): T {
  return parse(readDeployFile(relative), { merge: true }) as T;
}

/** `${NAME}`, `${NAME:-default}`, `${NAME-default}` and `$$`, as Compose substitutes them before parsing. */
export function interpolateCompose(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:?)-([^}]*))?\}/g, (whole, name: string | undefined, colon: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '$';
    const value = env[name];
    if (fallback === undefined) return value ?? '';
    if (value === undefined || (colon === ':' && value === '')) return fallback;
    return value;
  });
}

/** deploy/docker-compose.yml's services as Compose sees them with that environment. */
export function loadCompose(env: Record<string, string> = {}): Record<string, ComposeService> {
  return (parse(interpolateCompose(readDeployFile('docker-compose.yml'), env), { merge: true }) as { services: Record<string, ComposeService> }).services;
}

/** Grafana expands `$NAME` and `${...}` in provisioning files from its environment (here: none); `$$` is a literal `$`. */
export function expandLikeGrafana<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\$\$|\$\{[^}]*\}|\$\w+/g, (token) => (token === '$$' ? '$' : '')) as T;
  if (Array.isArray(value)) return value.map(expandLikeGrafana) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandLikeGrafana(v)])) as T;
  return value;
}

export function loadAlloy(): AlloyBlock[] {
  return parseAlloy(readDeployFile('alloy/config.alloy'));
}

/** The labels Alloy puts on the log lines it pushes to Loki: from the JSON fields, and from the container. */
export function alloyLogLabels(components: AlloyBlock[] = loadAlloy()): string[] {
  const fromJson = Object.keys(child(component(components, 'loki.process'), 'stage.labels').attributes.values as object);
  const fromContainer = component(components, 'discovery.relabel').blocks.filter((b) => b.name === 'rule').map((rule) => rule.attributes.target_label as string);
  return [...fromJson, ...fromContainer];
}

/** The name Alloy's template gives each numeric pino level, by number. */
export function alloyLevelNames(components: AlloyBlock[] = loadAlloy()): Map<number, string> {
  const template = child(component(components, 'loki.process'), 'stage.template').attributes.template as string;
  return new Map([...template.matchAll(/eq \. "(\d+)" \}\}(\w+)\{\{/g)].map(([, number, name]) => [Number(number), name!]));
}

/** The label matchers of a LogQL query's stream selector. */
export function streamMatchers(logql: string): Array<{ label: string; op: string; value: string }> {
  const selector = /^\s*\{([^}]*)\}/.exec(logql);
  if (!selector) return [];
  return [...selector[1]!.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op!, value: value! }));
}

/** The OTLP endpoint that README.md's observability command gives the roles. */
export function documentedOtlpEndpoint(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const command = /^OTEL_EXPORTER_OTLP_ENDPOINT=(\S+) docker compose .*--profile observability/m.exec(readme);
  if (!command) throw new Error('README.md shows no `OTEL_EXPORTER_OTLP_ENDPOINT=… docker compose … --profile observability` command');
  return command[1]!;
}

/** `host:port` of a listen address or URL. */
export function hostPort(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: url.hostname, port: Number(url.port) };
}
