import type { Executor } from './database.js';

const hooks = new WeakMap<object, Array<() => void>>();

/** Marks `trx` as an open transaction whose commit hooks will be run by its owner. */
export function trackCommitHooks(trx: Executor): void {
  hooks.set(trx, []);
}

/**
 * Runs `fn` once `executor`'s transaction has committed, or at once when `executor` is not a
 * transaction. Hooks of a transaction that rolls back are dropped.
 */
export function afterCommit(executor: Executor, fn: () => void): void {
  const list = hooks.get(executor);
  if (list) list.push(fn);
  else fn();
}

export function takeCommitHooks(trx: Executor): Array<() => void> {
  const list = hooks.get(trx) ?? [];
  hooks.delete(trx);
  return list;
}

export function runHooks(list: Array<() => void>): void {
  for (const fn of list) {
    try {
      fn();
    } catch {
      // A commit hook is a notification (a worker wake-up); its failure must not fail the commit.
    }
  }
}
