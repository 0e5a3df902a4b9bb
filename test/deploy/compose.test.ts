import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { ROOT } from '../support/processes.js';

interface Service {
  profiles?: string[];
  ports?: string[];
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  healthcheck?: { test: unknown };
  restart?: string;
}

const compose = parse(fs.readFileSync(path.join(ROOT, 'deploy/docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const intakeServices = Object.entries(services).filter(([, s]) => s.image === 'intake:local');

describe('deploy/docker-compose.yml', () => {
  it('has the engines and every role, with api and worker twice', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'grafana', 'migrate', 'postgres', 'prometheus', 'rabbitmq', 'redis', 'scheduler', 'simulator', 'worker']);
    expect(services.api!.deploy?.replicas).toBe(2);
    expect(services.worker!.deploy?.replicas).toBe(2);
    expect(services.rabbitmq!.image).toMatch(/management/);
    expect(fs.readFileSync(path.join(ROOT, 'deploy/rabbitmq/enabled_plugins'), 'utf8')).toContain('rabbitmq_prometheus');
  });

  it('gives every intake role a configuration that intake accepts, on the scale-out drivers', () => {
    for (const [name, service] of intakeServices) {
      const config = loadConfig(service.environment ?? {});
      if (name === 'simulator') continue;
      expect(config, name).toMatchObject({ queueDriver: 'amqp', storeDriver: 'redis', migrateOnStart: false });
      expect(config.databaseUrl, name).toMatch(/^postgres:\/\//);
    }
    expect(loadConfig(services.api!.environment!).role).toBe('api');
    expect(loadConfig(services.worker!.environment!).role).toBe('worker');
    expect(loadConfig(services.scheduler!.environment!).role).toBe('scheduler');
  });

  it('migrates once with a one-shot service before any role starts, and never from scratch', () => {
    expect(services.migrate!.command).toEqual(['node', 'dist/src/cli.js', 'migrate']);
    expect(services.migrate!.restart).toBe('no');
    for (const name of ['api', 'worker', 'scheduler']) {
      expect(services[name]!.depends_on?.migrate, name).toEqual({ condition: 'service_completed_successfully' });
      for (const engine of ['postgres', 'rabbitmq', 'redis']) expect(services[name]!.depends_on?.[engine], `${name} waits for ${engine}`).toEqual({ condition: 'service_healthy' });
    }
  });

  it('checks the health of every engine, and the image checks /ready', () => {
    for (const name of ['postgres', 'rabbitmq', 'redis', 'simulator']) expect(services[name]!.healthcheck, name).toBeDefined();
    expect(fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8')).toMatch(/HEALTHCHECK[\s\S]*\/ready/);
  });
});

describe('the observability profile', () => {
  const prometheus = parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }>; static_configs?: Array<{ targets: string[] }> }>;
  };
  const targets = prometheus.scrape_configs.flatMap((job) => [
    ...(job.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((name) => `${name}:${sd.port}`)),
    ...(job.static_configs ?? []).flatMap((s) => s.targets),
  ]);

  it('runs Prometheus and Grafana only under the profile, with their config from the repository', () => {
    for (const name of ['prometheus', 'grafana']) expect(services[name]!.profiles, name).toEqual(['observability']);
    const mounted = (name: string) => (services[name] as { volumes?: string[] }).volumes ?? [];
    expect(mounted('prometheus').some((v) => v.startsWith('./prometheus/prometheus.yml:'))).toBe(true);
    expect(mounted('grafana').some((v) => v.startsWith('./grafana/provisioning:'))).toBe(true);
  });

  it('scrapes every intake role where it serves /metrics, and RabbitMQ\'s prometheus plugin', () => {
    const api = loadConfig(services.api!.environment!);
    const worker = loadConfig(services.worker!.environment!);
    const scheduler = loadConfig(services.scheduler!.environment!);
    expect(targets).toEqual(expect.arrayContaining([`api:${api.port}`, `worker:${worker.metricsPort}`, `scheduler:${scheduler.metricsPort}`, 'rabbitmq:15692']));
    for (const target of targets) expect(Object.keys(services), target).toContain(target.split(':')[0]);
  });
});
