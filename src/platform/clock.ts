/** Time and randomness are injected so that tests never sleep for a window to pass. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export type Random = () => number;

export const systemRandom: Random = Math.random;
