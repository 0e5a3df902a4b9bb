import os from 'node:os';
import { afterAll, it } from 'vitest';
import { closeConnectionOnBroker } from '../platform/queue/amqp-fixture.js';
import { assertBuilt, killAll } from '../support/processes.js';
import { describeWithServices } from '../support/services.js';
import { ordersThroughBrokerDisruption } from './support/broker-disruption.js';

afterAll(() => killAll());

await describeWithServices(['postgres', 'rabbitmq', 'redis'], 'scale-out roles through a broker outage', () => {
  it('completes every recurring item exactly once at the third party when the broker cuts every connection mid-stream', async () => {
    assertBuilt();
    await ordersThroughBrokerDisruption(({ api, worker }) =>
      Promise.all([api, worker].map((p) => closeConnectionOnBroker(`intake-${p.name}@${os.hostname()}:${p.pid}`))).then(() => undefined),
    );
  }, 120_000);
});
