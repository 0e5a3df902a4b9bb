import type { StoredResponse } from '../platform/idempotency/idempotency.js';
import type { OrderView } from './orders.presenter.js';
import type { CreatedOrder } from './orders.service.js';

/** The 201 a stored order gets: recorded with its Idempotency-Key, and replayed byte for byte. */
export function createdOrderResponse(order: OrderView): StoredResponse {
  return {
    statusCode: 201,
    body: JSON.stringify({ message: 'Order stored successfully', order }),
    headers: { location: `/api/orders/${order.id}` },
  };
}

/** What the client receives: the recorded answer (of a replay, or of a new order with a key), else the 201 of the new order. */
export function answerTo(created: CreatedOrder): StoredResponse {
  if (created.replayed) return created.response;
  return created.recorded ?? createdOrderResponse(created.order);
}
