import { NETWORK_CODES, someCause } from '../../db/errors.js';

/**
 * amqplib's words for a connection or channel that closed under an operation, or a broker that
 * cannot be reached: the broker did not refuse the operation (as with "Channel closed by server:
 * 404 (NOT-FOUND)"), it is not there to serve it. Also the driver's own "AMQP connection is …".
 */
const BROKER_GONE =
  /^(Channel ended, no reply will be forthcoming|Channel closed$|channel closed$|Connection closed\b|Unexpected close|Heartbeat timeout|Socket closed abruptly|AMQP connection is (closed|connecting|reconnecting))/;

/** True when `error` means the broker is out of reach for now, rather than that it refused the operation. */
export function isBrokerUnavailable(error: unknown): boolean {
  return someCause(error, (e) => {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    return typeof message === 'string' && BROKER_GONE.test(message);
  });
}
