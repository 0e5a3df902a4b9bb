import fc from 'fast-check';

/**
 * Property tests use a fixed seed so that a CI run is reproducible; `FUZZ_SEED=random` explores
 * new inputs (a failure prints the seed that reproduces it).
 */
const seed = process.env.FUZZ_SEED;
if (seed !== 'random') fc.configureGlobal({ seed: Number(seed ?? 20_261_125) });
