import net from 'node:net';
import { describe } from 'vitest';

/**
 * The real services the scale-out suites talk to. In CI (`CI=true`) every one must be up and a
 * suite whose service is down fails; elsewhere such a suite is skipped with a loud notice.
 */
export type ServiceName = 'postgres' | 'mysql' | 'redis' | 'rabbitmq';

export const SERVICE_URLS: Record<ServiceName, string> = {
  postgres: process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  redis: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  rabbitmq: process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
};

const inCi = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const probes = new Map<ServiceName, boolean>();

function portOpen(url: string, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether `service` accepts connections (probed once per test file). */
export async function serviceUp(service: ServiceName): Promise<boolean> {
  let up = probes.get(service);
  if (up === undefined) {
    up = await portOpen(SERVICE_URLS[service]);
    probes.set(service, up);
  }
  return up;
}

/**
 * `describe` for a suite that needs `services`. Outside CI, a suite whose service is down is
 * skipped, and says so on stderr in capitals; in CI it runs and fails on the missing service.
 */
export async function describeWithServices(services: ServiceName[], name: string, body: () => void): Promise<void> {
  const down: ServiceName[] = [];
  for (const service of services) if (!(await serviceUp(service))) down.push(service);
  if (down.length > 0 && !inCi) {
    process.stderr.write(
      `\n!!! SKIPPED "${name}": ${down.map((s) => `${s.toUpperCase()} (${SERVICE_URLS[s]})`).join(', ')} NOT REACHABLE. ` +
        'These suites run in CI (CI=true), where a missing service fails them.\n\n',
    );
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}
