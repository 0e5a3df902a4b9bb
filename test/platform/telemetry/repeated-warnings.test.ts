import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/platform/telemetry/logger.js';
import { RepeatedWarnings } from '../../../src/platform/telemetry/repeated-warnings.js';
import { waitFor } from '../../support/driver-wait.js';
import { captureLogs } from '../../support/log-capture.js';

describe('repeated warnings', () => {
  const opened: RepeatedWarnings[] = [];
  afterEach(() => {
    for (const warnings of opened.splice(0)) warnings.close();
  });

  function aggregator(flushEveryMs = 0) {
    const logs = captureLogs();
    const warnings = new RepeatedWarnings({ logger: createLogger({ level: 'info', role: 'worker', destination: logs.destination }), message: 'image failed', flushEveryMs });
    opened.push(warnings);
    return { logs, warnings };
  }

  it('writes N identical warnings as one line, then one summary with the count and a few examples', () => {
    const { logs, warnings } = aggregator();
    for (let i = 0; i < 500; i++) warnings.warn('refused: address 10.0.0.1 is not public', `http://10.0.0.1/${i}.jpg`, { urlHash: `h${i}` });
    expect(logs.lines).toHaveLength(1);
    warnings.flush();
    expect(logs.records()).toEqual([
      expect.objectContaining({ level: 40, reason: 'refused: address 10.0.0.1 is not public', subject: 'http://10.0.0.1/0.jpg', urlHash: 'h0', msg: expect.stringContaining('image failed') }),
      expect.objectContaining({ level: 40, reason: 'refused: address 10.0.0.1 is not public', repeats: 499, examples: ['http://10.0.0.1/1.jpg', 'http://10.0.0.1/2.jpg', 'http://10.0.0.1/3.jpg'], msg: 'image failed: 499 more with this reason' }),
    ]);
  });

  it('keeps each reason apart, and needs no summary for a reason seen once', () => {
    const { logs, warnings } = aggregator();
    for (let i = 0; i < 10; i++) warnings.warn('source answered 404', `http://cdn.test/${i}.jpg`);
    warnings.warn('not an image: Content-Type is "text/html"', 'http://cdn.test/page');
    warnings.close();
    const records = logs.records();
    expect(records.map((r) => [r.reason, r.repeats])).toEqual([
      ['source answered 404', undefined],
      ['not an image: Content-Type is "text/html"', undefined],
      ['source answered 404', 9],
    ]);
    // After a summary the count starts again: a reason that comes back is written once more.
    warnings.warn('source answered 404', 'http://cdn.test/late.jpg');
    expect(logs.lines).toHaveLength(4);
  });

  it('summarises on its own every period', async () => {
    const { logs, warnings } = aggregator(30);
    for (let i = 0; i < 3; i++) warnings.warn('timed out after 2000 ms', `http://cdn.test/${i}.jpg`);
    await waitFor(() => logs.lines.length === 2, 2_000, 'the periodic summary');
    expect(logs.records()[1]).toMatchObject({ repeats: 2 });
  });
});
