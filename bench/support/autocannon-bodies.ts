/**
 * autocannon 8 keeps every response body as a string: its PipelinedRequestsQueue does
 * `req.body += chunk`, a UTF-8 decode of each chunk, and no option turns that off (upstream
 * issues mcollina/autocannon#362 and #485). On a binary body the decode is slow: a profile of
 * autocannon loading a 30 KB random body from a bare node:http server spent 78 % of its CPU in
 * `Buffer.toString` and reached 2,100 req/s, against 24,000 for the same size of ASCII. On the
 * 2-core machine, where the client and the server share the cores, that capped the cached-variant
 * row and its anchor at the client's speed. A benchmark that never reads the bodies it loads calls
 * this first, and autocannon then keeps none (it still counts their bytes).
 */
import { createRequire } from 'node:module';

interface BodyQueue {
  prototype: { addBody: (data: unknown) => void };
}

export function discardAutocannonBodies(): void {
  const require = createRequire(import.meta.url);
  const queue = require('autocannon/lib/pipelinedRequestsQueue.js') as Partial<BodyQueue> | undefined;
  if (typeof queue?.prototype?.addBody !== 'function') {
    throw new Error('autocannon/lib/pipelinedRequestsQueue.js has no addBody any more: see bench/support/autocannon-bodies.ts');
  }
  queue.prototype.addBody = function keepNoBody(): void {};
}
