import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/platform/cli/cli-error.js';
import { ask, confirmOrRefuse } from '../../../src/platform/cli/confirm.js';
import { fakeCliIo } from '../../support/fake-cli-io.js';

describe('confirmOrRefuse', () => {
  const action = 'purge 7 parked job(s) of q';

  it('goes on with --yes without reading stdin', async () => {
    const io = fakeCliIo({ tty: false });
    await expect(confirmOrRefuse(io, { action, yes: true })).resolves.toBeUndefined();
    expect(io.err()).toBe('');
  });

  it('refuses off a terminal, saying how to go ahead', async () => {
    await expect(confirmOrRefuse(fakeCliIo({ tty: false, answer: 'y' }), { action })).rejects.toThrow(/^refusing to purge 7 parked job\(s\) of q without confirmation: stdin is not a terminal; pass --yes/);
  });

  it('accepts y and yes in any case, and takes anything else for no', async () => {
    for (const answer of ['y', 'Y', 'yes', ' YES ']) await expect(confirmOrRefuse(fakeCliIo({ tty: true, answer }), { action })).resolves.toBeUndefined();
    for (const answer of ['n', '', 'yep', 'sure']) {
      const io = fakeCliIo({ tty: true, answer });
      const refusal = confirmOrRefuse(io, { action });
      await expect(refusal).rejects.toBeInstanceOf(CliError);
      await expect(refusal).rejects.toThrow('aborted: did not purge 7 parked job(s) of q');
      expect(io.err()).toBe('Purge 7 parked job(s) of q? [y/N] ');
    }
  });

  it('reads only the first line', async () => {
    const io = fakeCliIo({ tty: true, answer: 'n\ny' });
    expect(await ask(io, '? ')).toBe('n');
  });
});
