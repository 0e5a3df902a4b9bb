import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { child, component, references, type AlloyBlock, type AlloyRef } from './alloy-syntax.js';
import { alloyLevelNames, alloyLogLabels, hostPort, loadAlloy, loadCompose, readDeployYaml } from './deploy-files.js';

/** What each kind of component used here exports to the others. */
const EXPORTS: Record<string, string[]> = {
  'discovery.docker': ['targets'],
  'discovery.relabel': ['output', 'rules'],
  'loki.process': ['receiver'],
  'loki.write': ['receiver'],
  'otelcol.processor.batch': ['input'],
  'otelcol.exporter.otlp': ['input'],
};

const components = loadAlloy();
const services = loadCompose();

/** The component a reference points into. */
function target(ref: AlloyRef): AlloyBlock {
  const found = components.find((c) => c.label !== undefined && ref.path.startsWith(`${c.name}.${c.label}.`));
  if (!found) throw new Error(`${ref.path} names no component of config.alloy`);
  return found;
}

/** The components a component's forward_to (or output block) sends to. */
function downstream(block: AlloyBlock): AlloyBlock[] {
  const sends = block.attributes.forward_to ?? child(block, 'output').attributes.traces;
  return (sends as AlloyRef[]).map(target);
}

describe('deploy/alloy/config.alloy', () => {
  it('parses, and every reference names a component of the file and one of its exports', () => {
    expect(components.map((c) => c.name)).toEqual(
      expect.arrayContaining(['discovery.docker', 'discovery.relabel', 'loki.source.docker', 'loki.process', 'loki.write', 'otelcol.receiver.otlp', 'otelcol.exporter.otlp']),
    );
    for (const block of components) {
      for (const ref of references(block)) {
        const to = target(ref);
        expect(EXPORTS[to.name], `${to.name} is not a component this test knows`).toBeDefined();
        expect(EXPORTS[to.name], ref.path).toContain(ref.path.slice(`${to.name}.${to.label}.`.length));
      }
    }
  });

  it('reads the stdout of the intake containers, and only theirs, through the Docker socket that Compose mounts', () => {
    const discovery = component(components, 'discovery.docker');
    const source = component(components, 'loki.source.docker');
    const socket = '/var/run/docker.sock';
    expect(discovery.attributes.host).toBe(`unix://${socket}`);
    expect(source.attributes.host).toBe(`unix://${socket}`);
    expect(services.alloy!.volumes).toContain(`${socket}:${socket}:ro`);
    expect((source.attributes.targets as AlloyRef).path).toBe(`discovery.docker.${discovery.label}.targets`);
    const intakeImages = [...new Set(Object.values(services).filter((s) => s.build !== undefined).map((s) => s.image))];
    expect(child(discovery, 'filter').attributes).toEqual({ name: 'ancestor', values: intakeImages });
  });

  it('pushes the lines to Loki, where Loki listens', () => {
    const source = component(components, 'loki.source.docker');
    const [process] = downstream(source);
    expect(process!.name).toBe('loki.process');
    const [write] = downstream(process!);
    expect(write!.name).toBe('loki.write');
    const url = child(write!, 'endpoint').attributes.url as string;
    const loki = readDeployYaml<{ server: { http_listen_port: number } }>('loki/loki.yaml');
    expect(hostPort(url)).toEqual({ host: 'loki', port: loki.server.http_listen_port });
    expect(new URL(url).pathname).toBe('/loki/api/v1/push');
    expect(services.loki!.profiles).toEqual(['observability']);
  });

  it('labels each line with its level, role, compose service and container, and keeps the trace id out of the labels', () => {
    const process = component(components, 'loki.process');
    expect(Object.keys(child(process, 'stage.json').attributes.expressions as object)).toEqual(expect.arrayContaining(['level', 'role']));
    expect(alloyLogLabels(components).sort()).toEqual(['container', 'level', 'role', 'service']);
    const serviceRule = component(components, 'discovery.relabel').blocks.find((rule) => rule.attributes.target_label === 'service');
    expect(serviceRule?.attributes.source_labels).toEqual(['__meta_docker_container_label_com_docker_compose_service']);
  });

  it('names every pino level as pino does', () => {
    const names = alloyLevelNames(components);
    expect(Object.fromEntries([...names].map(([number, name]) => [name, number]))).toEqual(pino.levels.values);
  });

  it('receives OTLP/HTTP on every interface and forwards the spans to Tempo\'s OTLP/gRPC receiver', () => {
    const receiver = component(components, 'otelcol.receiver.otlp');
    expect(hostPort(child(receiver, 'http').attributes.endpoint as string)).toEqual({ host: '0.0.0.0', port: 4318 });
    const [batch] = downstream(receiver);
    expect(batch!.name).toBe('otelcol.processor.batch');
    const [exporter] = downstream(batch!);
    expect(exporter!.name).toBe('otelcol.exporter.otlp');
    const client = child(exporter!, 'client');
    const tempo = readDeployYaml<{ distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string } } } } } }>('tempo/tempo.yaml');
    expect(hostPort(client.attributes.endpoint as string)).toEqual({ host: 'tempo', port: hostPort(tempo.distributor.receivers.otlp.protocols.grpc.endpoint).port });
    expect(child(client, 'tls').attributes.insecure).toBe(true);
  });
});
