import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A verifier written from the Standard Webhooks specification (standard-webhooks/standard-webhooks,
 * spec/standard-webhooks.md, "Verifying webhook authenticity"), independent of intake's signing
 * code: the signed content is `${webhook-id}.${webhook-timestamp}.${body}`; the key is the base64
 * part of the secret after `whsec_`; `webhook-signature` holds space-delimited `v1,<base64>`
 * signatures, any one of which may match; the timestamp must be within the tolerance of now.
 */
export function verifyStandardWebhook(secret: string, headers: Record<string, string | string[] | undefined>, body: string, nowMs: number, toleranceSeconds = 300): boolean {
  const id = single(headers['webhook-id']);
  const timestamp = single(headers['webhook-timestamp']);
  const signatures = single(headers['webhook-signature']);
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
