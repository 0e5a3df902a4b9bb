import net from 'node:net';
import { describe } from 'vitest';
import { redactUrl } from '../../src/platform/db/urls.js';

/** The real engines that the scale-out drivers are tested against. */
export type ServiceName = 'postgres' | 'mysql' | 'redis' | 'rabbitmq';

const env = process.env;

/** Where each service is reached; the defaults are the local services of the development and CI machines. */
export const serviceUrls: Record<ServiceName, string> = {
  postgres: env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  redis: env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  rabbitmq: env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};

const DEFAULT_PORTS: Record<ServiceName, number> = { postgres: 5432, mysql: 3306, redis: 6379, rabbitmq: 5672 };

const probes = new Map<ServiceName, Promise<boolean>>();

/** True when the service accepts TCP connections (probed once per test file). */
export function isServiceUp(name: ServiceName): Promise<boolean> {
  let probe = probes.get(name);
  if (!probe) {
    const url = new URL(serviceUrls[name]);
    probe = canConnect(url.hostname || '127.0.0.1', Number(url.port) || DEFAULT_PORTS[name]);
    probes.set(name, probe);
  }
  return probe;
}

/**
 * A describe block that needs real services. In CI (`CI=true`) a missing service fails the run;
 * elsewhere the block is skipped with a loud notice naming the service. `npm run test:quick` skips
 * every such block.
 */
export async function describeWithServices(names: ServiceName[], title: string, body: () => void): Promise<void> {
  if (process.env.TEST_QUICK === 'true') {
    process.stderr.write(`\n!!! SKIPPED "${title}" in test:quick, which runs without ${names.join(', ')}; npm test runs it.\n\n`);
    describe.skip(title, body);
    return;
  }
  const down: ServiceName[] = [];
  for (const name of names) if (!(await isServiceUp(name))) down.push(name);
  if (down.length > 0) {
    const where = down.map((name) => `${name} (${redactUrl(serviceUrls[name])})`).join(', ');
    if (process.env.CI === 'true') throw new Error(`"${title}" needs ${where}, which did not answer; CI must start every service first (.ci/run)`);
    process.stderr.write(`\n!!! SKIPPED "${title}": ${where} not reachable. These tests run in CI (CI=true); start the service to run them here.\n\n`);
  }
  describe.skipIf(down.length > 0)(title, body);
}

function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
