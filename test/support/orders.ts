import { answerTo, createdOrderResponse } from '../../src/orders/orders.responses.js';
import type { CreateOrderRequest, OrdersService } from '../../src/orders/orders.service.js';
import type { StoredResponse } from '../../src/platform/idempotency/idempotency.js';

export type OrderRequest = Omit<CreateOrderRequest, 'idempotency'> & { idempotencyKey?: string };

/** Stores an order through the service, and returns what POST /api/orders would answer: status, bytes, headers, and whether it was a replay. */
export async function createOrderAsApi(orders: OrdersService, request: OrderRequest): Promise<StoredResponse & { replayed: boolean }> {
  const { idempotencyKey: key, ...rest } = request;
  const created = await orders.create({ ...rest, idempotency: key === undefined ? undefined : { key, answer: createdOrderResponse } });
  return { ...answerTo(created), replayed: created.replayed };
}
