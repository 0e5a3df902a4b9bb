import type { ChangePosition } from '../catalog-changes.repository.js';

/** The cursor of the very beginning: every pornstar there is, and every tombstone still kept. */
export const FIRST_CURSOR = '0';

export interface ChangeCursor extends ChangePosition {
  /** The catalog it was issued by; null for {@link FIRST_CURSOR}, which is every catalog's. */
  epoch: string | null;
}

const SHAPE = /^v1\.([0-9a-f]{1,32})\.(\d{1,15})\.(\d{1,15})$/;

/**
 * A position in the change sequence, opaque to clients: base64url of `v1.<epoch>.<seq>.<id>`.
 * Its parts are not a contract; only a cursor intake issued (or `0`) is accepted.
 */
export function encodeCursor(epoch: string, position: ChangePosition): string {
  return Buffer.from(`v1.${epoch}.${position.seq}.${position.id}`).toString('base64url');
}

/** The cursor `text` stands for, or undefined when it is not one intake could have issued. */
export function decodeCursor(text: string): ChangeCursor | undefined {
  if (text === FIRST_CURSOR) return { epoch: null, seq: 0, id: 0 };
  if (!/^[A-Za-z0-9_-]{1,96}$/.test(text)) return undefined;
  const match = SHAPE.exec(Buffer.from(text, 'base64url').toString('latin1'));
  if (!match) return undefined;
  const [, epoch, seq, id] = match;
  return { epoch: epoch!, seq: Number(seq), id: Number(id) };
}
