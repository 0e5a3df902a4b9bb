import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ROOT } from '../support/processes.js';
import { child, component } from './alloy-syntax.js';
import { documentedOtlpEndpoint, hostPort, loadAlloy, loadCompose, readDeployYaml } from './deploy-files.js';

const services = loadCompose();
const intakeServices = Object.entries(services).filter(([, s]) => s.image === 'intake:local');
const OBSERVABILITY = ['alloy', 'grafana', 'loki', 'prometheus', 'tempo'];

describe('deploy/docker-compose.yml', () => {
  it('has the engines and every role, with api and worker twice', () => {
    expect(Object.keys(services).sort()).toEqual(['alloy', 'api', 'grafana', 'loki', 'migrate', 'minio', 'minio-bucket', 'postgres', 'prometheus', 'rabbitmq', 'redis', 'scheduler', 'simulator', 'tempo', 'worker']);
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
      expect(config.tracing.endpoint, `${name} traces nothing unless told where to export`).toBeUndefined();
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

  it('pins the tag of every image it pulls', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.image === 'intake:local') continue;
      expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(service.image, name).not.toMatch(/:latest$/);
    }
  });

  it('checks the health of every engine, and the image checks /ready', () => {
    for (const name of ['postgres', 'rabbitmq', 'redis', 'simulator']) expect(services[name]!.healthcheck, name).toBeDefined();
    expect(fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8')).toMatch(/HEALTHCHECK[\s\S]*\/ready/);
  });

  it('ships only the production build: no dev tools, benchmarks or tests in the image', () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
    const copies = dockerfile.split('\n').filter((line) => /^COPY\b/.test(line));
    expect(copies.some((line) => /\b(dev|bench|test)\b/.test(line.replace(/--omit=dev/, '')))).toBe(false);
    expect(copies).toContain('COPY --from=build /app/dist/src ./dist/src');
  });
});

describe('the observability profile', () => {
  const prometheus = readDeployYaml<{
    scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }>; static_configs?: Array<{ targets: string[] }> }>;
  }>('prometheus/prometheus.yml');
  const targets = prometheus.scrape_configs.flatMap((job) => [
    ...(job.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((name) => `${name}:${sd.port}`)),
    ...(job.static_configs ?? []).flatMap((s) => s.targets),
  ]);

  const loki = readDeployYaml<{ server: { http_listen_port: number } }>('loki/loki.yaml');
  const tempo = readDeployYaml<{ server: { http_listen_port: number } }>('tempo/tempo.yaml');
  const mounted = (name: string) => services[name]!.volumes ?? [];

  it('runs Prometheus, Loki, Tempo, Alloy and Grafana, and only under the profile', () => {
    expect(Object.keys(services).filter((name) => services[name]!.profiles?.includes('observability')).sort()).toEqual(OBSERVABILITY);
    for (const name of OBSERVABILITY) expect(services[name]!.profiles, name).toEqual(['observability']);
  });

  it('reads every configuration from the repository, at the path each command names', () => {
    expect(mounted('prometheus').some((v) => v.startsWith('./prometheus/prometheus.yml:'))).toBe(true);
    expect(mounted('grafana').some((v) => v.startsWith('./grafana/provisioning:'))).toBe(true);
    const configs: Array<[string, string, string]> = [
      ['loki', './loki/loki.yaml', services.loki!.command![0]!.replace('-config.file=', '')],
      ['tempo', './tempo/tempo.yaml', services.tempo!.command![0]!.replace('-config.file=', '')],
      ['alloy', './alloy/config.alloy', services.alloy!.command![1]!],
    ];
    for (const [name, file, inContainer] of configs) {
      expect(mounted(name), name).toContain(`${file}:${inContainer}:ro`);
      expect(fs.existsSync(path.join(ROOT, 'deploy', file)), file).toBe(true);
    }
    expect(services.alloy!.command![0]).toBe('run');
  });

  it('publishes no port but Grafana\'s and Prometheus\'s', () => {
    expect(services.grafana!.ports).toEqual(['3000:3000']);
    expect(services.prometheus!.ports).toEqual(['9090:9090']);
    for (const name of ['loki', 'tempo', 'alloy']) expect(services[name]!.ports, name).toBeUndefined();
  });

  it('checks the health of each observability service on the port its configuration listens on', () => {
    for (const name of OBSERVABILITY) expect(services[name]!.healthcheck, name).toBeDefined();
    const probe = (name: string) => JSON.stringify(services[name]!.healthcheck!.test);
    expect(probe('loki')).toContain(`127.0.0.1:${loki.server.http_listen_port}/ready`);
    expect(probe('tempo')).toContain(`127.0.0.1:${tempo.server.http_listen_port}/ready`);
    expect(probe('alloy')).toContain('/dev/tcp/127.0.0.1/12345');
    for (const backend of ['loki', 'tempo']) {
      expect(services.grafana!.depends_on?.[backend], `grafana waits for ${backend}`).toEqual({ condition: 'service_healthy' });
      expect(services.alloy!.depends_on?.[backend], `alloy waits for ${backend}`).toEqual({ condition: 'service_healthy' });
    }
  });

  it('sends the roles\' traces to Alloy\'s OTLP/HTTP receiver with the README\'s command', () => {
    const endpoint = documentedOtlpEndpoint();
    const traced = loadCompose({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    const receiver = hostPort(child(component(loadAlloy(), 'otelcol.receiver.otlp'), 'http').attributes.endpoint as string);
    expect(hostPort(endpoint)).toEqual({ host: 'alloy', port: receiver.port });
    for (const [name, service] of Object.entries(traced)) {
      if (service.image !== 'intake:local' || name === 'simulator') continue;
      const { tracing, role } = loadConfig(service.environment!);
      expect(tracing.endpoint, name).toBe(endpoint);
      if (name !== 'migrate') expect(tracing.serviceName, name).toBe(`intake-${role}`);
    }
  });

  it('scrapes every intake role where it serves /metrics, and RabbitMQ\'s prometheus plugin', () => {
    const api = loadConfig(services.api!.environment!);
    const worker = loadConfig(services.worker!.environment!);
    const scheduler = loadConfig(services.scheduler!.environment!);
    expect(targets).toEqual(expect.arrayContaining([`api:${api.port}`, `worker:${worker.metricsPort}`, `scheduler:${scheduler.metricsPort}`, 'rabbitmq:15692']));
    for (const target of targets) expect(Object.keys(services), target).toContain(target.split(':')[0]);
  });
});
