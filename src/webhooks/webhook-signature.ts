import { createHmac } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

export interface SignedMessage {
  /** The `webhook-id`: the delivery's `msg_…` id. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: string;
}

export interface SigningSecrets {
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the base64-decoded part of `whsec_…` (Standard Webhooks). */
export function signatureOf(message: SignedMessage, secret: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${message.id}.${message.timestamp}.${message.body}`).digest('base64');
  return `v1,${mac}`;
}

/** The secrets that sign at `now`: the current one, and the previous one until its overlap ends. */
export function signingSecrets(endpoint: SigningSecrets, now: number): string[] {
  const previousValid = endpoint.previous_secret !== null && endpoint.previous_secret_until !== null && now < endpoint.previous_secret_until;
  return previousValid ? [endpoint.secret, endpoint.previous_secret!] : [endpoint.secret];
}

/** The three Standard Webhooks headers; one signature per secret, space-separated. */
export function webhookHeaders(message: SignedMessage, secrets: readonly string[]): Record<string, string> {
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': secrets.map((secret) => signatureOf(message, secret)).join(' '),
  };
}
