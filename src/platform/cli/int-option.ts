import { InvalidArgumentError, Option } from 'commander';

/** A commander option parser for a whole number in `min..max`; anything else is a clear usage error. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return parsed;
  };
}

/** The most rows a listing command prints at once. */
export const MAX_LIMIT = 1000;

/** `--limit <n>`: how many rows a listing prints, 1 to MAX_LIMIT. */
export function limitOption(defaultLimit: number): Option {
  return new Option('--limit <n>', `how many (1-${MAX_LIMIT})`).argParser(intOption(1, MAX_LIMIT)).default(defaultLimit);
}
