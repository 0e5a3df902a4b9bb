import { randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** A signing secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes (the HMAC key). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}
