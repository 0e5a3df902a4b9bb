import { recordTraces } from '../../support/trace-recorder.js';
import { orderTraceContract } from './order-trace.contract.js';

orderTraceContract('one trace from POST /api/orders to the third party (database queue)', recordTraces(), { env: {}, hops: [], librarySpans: [] });
