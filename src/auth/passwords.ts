import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** A hash of a password nobody has, verified when an email is unknown so that timing reveals nothing. */
const DECOY_HASH = argon2.hash('decoy-password-for-unknown-emails', OPTIONS);

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  try {
    const ok = await argon2.verify(hash ?? (await DECOY_HASH), password);
    return hash !== undefined && ok;
  } catch {
    return false;
  }
}
