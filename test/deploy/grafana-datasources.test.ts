import * as api from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/telemetry/logger.js';
import { inSpan, useTracing } from '../../src/platform/telemetry/tracing.js';
import { captureLogs } from '../support/log-capture.js';
import { alloyLogLabels, expandLikeGrafana, hostPort, loadCompose, readDeployYaml, streamMatchers } from './deploy-files.js';

interface Datasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: {
    derivedFields?: Array<{ name: string; matcherType?: string; matcherRegex: string; url: string; datasourceUid?: string }>;
    tracesToLogsV2?: { datasourceUid: string; customQuery?: boolean; query?: string };
    lokiSearch?: { datasourceUid: string };
    nodeGraph?: { enabled: boolean };
  };
}

const datasources = expandLikeGrafana(readDeployYaml<{ datasources: Datasource[] }>('grafana/provisioning/datasources/datasources.yml').datasources);
const byType = (type: string) => {
  const found = datasources.filter((d) => d.type === type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};
const services = loadCompose();

describe('Grafana datasources', () => {
  it('have fixed, distinct uids and reach their compose service on the port its configuration listens on', () => {
    expect(datasources.map((d) => d.uid).sort()).toEqual(['loki', 'prometheus', 'tempo']);
    const ports: Record<string, number> = {
      prometheus: 9090,
      loki: readDeployYaml<{ server: { http_listen_port: number } }>('loki/loki.yaml').server.http_listen_port,
      tempo: readDeployYaml<{ server: { http_listen_port: number } }>('tempo/tempo.yaml').server.http_listen_port,
    };
    for (const datasource of datasources) {
      expect(hostPort(datasource.url), datasource.name).toEqual({ host: datasource.type, port: ports[datasource.type] });
      expect(services[datasource.type]?.profiles, datasource.name).toEqual(['observability']);
    }
  });

  describe('between logs and traces', () => {
    const provider = new NodeTracerProvider();
    const logs = captureLogs();
    let line = '';
    let lineOutsideSpan = '';
    let traceId = '';
    let spanId = '';

    beforeAll(async () => {
      provider.register();
      useTracing(api);
      const logger = createLogger({ level: 'info', role: 'worker', destination: logs.destination });
      logger.info('before any span');
      await inSpan('process orders.integration', {}, async () => {
        ({ traceId, spanId } = api.trace.getActiveSpan()!.spanContext());
        logger.info({ order_id: 42 }, 'third party answered');
      });
      expect(logs.lines).toHaveLength(2);
      [lineOutsideSpan, line] = logs.lines as [string, string];
    });
    afterAll(async () => {
      await provider.shutdown();
    });

    it('turn the trace id of a real log line written inside a span into a link to that trace in Tempo', () => {
      const tempo = byType('tempo');
      const fields = byType('loki').jsonData?.derivedFields ?? [];
      const field = fields.find((f) => f.datasourceUid === tempo.uid);
      expect(field, 'a derived field linking to Tempo').toBeDefined();
      expect(field!.matcherType ?? 'regex').toBe('regex');
      expect(field!.url).toBe('${__value.raw}');

      expect(line).toContain(spanId);
      expect(new RegExp(field!.matcherRegex).exec(line)?.[1]).toBe(traceId);
      expect(new RegExp(field!.matcherRegex).exec(lineOutsideSpan)).toBeNull();
    });

    it('open every log line of a trace from Tempo, on labels that Alloy sets', () => {
      const loki = byType('loki');
      const links = byType('tempo').jsonData?.tracesToLogsV2;
      expect(links?.datasourceUid).toBe(loki.uid);
      expect(links?.customQuery).toBe(true);
      const query = links!.query!;
      const matchers = streamMatchers(query);
      expect(matchers.length, query).toBeGreaterThan(0);
      for (const { label } of matchers) expect(alloyLogLabels(), query).toContain(label);

      const lineFilter = /\|= "([^"]+)"/.exec(query.replace('${__trace.traceId}', traceId))?.[1];
      expect(lineFilter, query).toBe(traceId);
      expect(line).toContain(lineFilter);
    });

    it('search traces with Loki next to Tempo, and draw a trace\'s node graph', () => {
      const tempo = byType('tempo');
      expect(tempo.jsonData?.lokiSearch?.datasourceUid).toBe(byType('loki').uid);
      expect(tempo.jsonData?.nodeGraph?.enabled).toBe(true);
    });
  });
});
