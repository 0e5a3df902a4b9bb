import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, it } from 'vitest';
import { sleep } from '../support/driver-wait.js';
import { assertBuilt, killAll } from '../support/processes.js';
import { describeWithServices } from '../support/services.js';
import { ordersThroughBrokerDisruption } from './support/broker-disruption.js';

// Restarting the broker cuts every other suite that uses it: vitest runs this file alone, after
// all the others (its own project, a later `sequence.groupOrder`).
const run = promisify(execFile);
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args, { timeout: 60_000 });

/** Only a broker on this machine can be restarted from here: with rabbitmqctl, and not one that TEST_AMQP_URL points elsewhere. */
function localBrokerControl(): string | undefined {
  if (process.env.TEST_AMQP_URL) return 'TEST_AMQP_URL names a broker this test cannot restart';
  try {
    execFileSync('which', ['rabbitmqctl'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'rabbitmqctl is not on the PATH';
  }
}

const cannot = localBrokerControl();
if (cannot && process.env.CI === 'true') throw new Error(`the broker restart test cannot run: ${cannot}`);
if (cannot) process.stderr.write(`\n!!! SKIPPED the broker restart test: ${cannot}. It runs in CI.\n\n`);

afterAll(() => killAll());

await describeWithServices(['postgres', 'rabbitmq', 'redis'], 'scale-out roles through a broker restart', () => {
  it.skipIf(cannot !== undefined)('takes every order while RabbitMQ restarts, and completes every recurring item exactly once', async () => {
    assertBuilt();
    const restarts: Array<Promise<unknown>> = [];
    try {
      // Delivery is at least once: a publish whose confirm, or a delivery whose ack, the restart
      // lost comes again, and a handler may then repeat a call under the same Idempotency-Key.
      const { repeats } = await ordersThroughBrokerDisruption(
        async () => {
          await rabbitmqctl('stop_app');
          // The broker stays down for two seconds while orders keep coming: the API writes them to the outbox.
          restarts.push(sleep(2_000).then(() => rabbitmqctl('start_app')));
        },
        { repeatsAllowed: true },
      );
      process.stdout.write(`broker restart: ${repeats} repeated third-party calls (same Idempotency-Key)\n`);
    } finally {
      // Whatever happened above, the broker is left running for whoever comes next.
      const settled = await Promise.allSettled(restarts);
      if (settled.some((s) => s.status === 'rejected')) await rabbitmqctl('start_app');
    }
  }, 180_000);
});
