import { InvalidArgumentError } from 'commander';

/** A commander option parser for a whole number in `min..max`; anything else is a clear usage error. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return parsed;
  };
}
