import { afterAll, it } from 'vitest';
import { killAll } from '../support/processes.js';
import { describeWithServices } from '../support/services.js';
import { thirdPartyProtectionScenario } from './support/third-party-protection.js';

afterAll(() => killAll());

await describeWithServices(['postgres', 'redis', 'rabbitmq'], 'the third party protected across two worker processes (amqp queue)', () => {
  it('keeps to the shared rate limit, honours a 429 on every worker, and holds every job through an outage', () => thirdPartyProtectionScenario('amqp'), 150_000);
});
