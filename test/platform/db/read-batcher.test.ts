import { describe, expect, it } from 'vitest';
import { ReadBatcher } from '../../../src/platform/db/read-batcher.js';

describe('ReadBatcher', () => {
  it('reads the keys asked for in one turn together, each caller getting its row or undefined', async () => {
    const reads: number[][] = [];
    const batcher = new ReadBatcher<number, { id: number }>({
      read: async (keys) => {
        reads.push(keys);
        return keys.filter((k) => k % 2 === 0).map((id) => ({ id }));
      },
      keyOf: (row) => row.id,
      maxKeys: 3,
    });
    const results = await Promise.all([2, 3, 4, 2, 6, 8].map((k) => batcher.get(k)));
    expect(results).toEqual([{ id: 2 }, undefined, { id: 4 }, { id: 2 }, { id: 6 }, { id: 8 }]);
    // At most 3 callers a read, a repeated key read once.
    expect(reads).toEqual([[2, 3, 4], [2, 6, 8]]);
    expect(await batcher.get(10)).toEqual({ id: 10 });
    expect(reads).toHaveLength(3);
  });

  it('fails every caller of a failed read, and reads again for the next callers', async () => {
    let fail = true;
    const batcher = new ReadBatcher<number, { id: number }>({
      read: async (keys) => {
        if (fail) throw new Error('connection lost');
        return keys.map((id) => ({ id }));
      },
      keyOf: (row) => row.id,
      maxKeys: 10,
    });
    const failed = await Promise.allSettled([batcher.get(1), batcher.get(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.get(1)).toEqual({ id: 1 });
  });
});
