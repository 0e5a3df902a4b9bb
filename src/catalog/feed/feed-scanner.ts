/**
 * Reads the feed's envelope `{site, generationDate, items: [...], itemsCount}` line by line and
 * cuts its `items` array into one text per item, for `JSON.parse`.
 *
 * - **Fast path.** A whole line read between two items whose text, without a separator at either
 *   end, parses alone is one item: the real feed's layout, one `JSON.parse` per line and no
 *   character-by-character scan.
 * - **Any other layout** (several items on a line, an item over several lines, a minified or
 *   pretty-printed feed) is followed character by character (JsonStructure), so that every valid
 *   JSON text yields exactly the items `JSON.parse` yields, whatever its whitespace.
 * - **Defects.** An item's text that does not parse is repaired (`parseItemText`); one that still
 *   does not parse is reported invalid and reading goes on. A broken item cannot take the items
 *   after it along: an item that runs over several lines is kept only when its text parses, and
 *   otherwise its first line is reported invalid and the lines after it are read again as they
 *   are. Those lines are bounded by `maxItemLength`.
 * - The envelope itself must be sound: anything else throws FeedFormatError.
 */
import { emptyFeed, FeedFormatError, isPlainObject, notAnEnvelope, sample, stringOrNull, countOrNull, type FeedEvent } from './feed-events.js';
import { parseItemText } from './item-text.js';
import { isJsonWhitespace } from './json-chars.js';
import { JsonStructure, startsValue } from './json-structure.js';
import type { LinePiece } from './line-splitter.js';
import { emptyRepairCounts } from './sanitize.js';

const enum State {
  Root,
  Key,
  Colon,
  Value,
  AfterValue,
  Items,
  Done,
}

/** The envelope fields that are read; any other field is skipped without keeping its text. */
const READ_FIELDS = new Set(['site', 'generationDate', 'itemsCount']);
const MAX_FIELD_CHARS = 64 * 1024;

/** A value being read: an envelope key or field, or an item. */
interface Value {
  role: 'key' | 'field' | 'item';
  structure: JsonStructure;
  parts: string[];
  chars: number;
  line: number;
  /** Whether its text is still kept (false once it is longer than allowed, or for a skipped field). */
  keep: boolean;
  /** The beginning of its text, once the rest is no longer kept. */
  head: string;
  /** Set once an item runs past the end of its first line: that line's text. */
  firstLine: string | null;
  /** The pieces read since the end of the item's first line, to read again if it is broken; null when they are not kept. */
  replay: LinePiece[] | null;
}

/** An item over several lines, held until something after it shows that it did not swallow the envelope's end. */
interface Held {
  event: FeedEvent;
  firstLine: string;
  line: number;
  index: number;
  spanned: LinePiece[];
}

export class FeedScanner {
  /** Events ready for the reader. */
  readonly events: FeedEvent[] = [];
  private readonly queue: LinePiece[] = [];
  private state = State.Root;
  private value: Value | null = null;
  private held: Held | null = null;
  private key = '';
  private skipLine = false;
  private itemsOpened = false;
  private itemsClosed = false;
  private site: string | null = null;
  private generationDate: string | null = null;
  private itemsCount: number | null = null;
  private index = 0;
  private items = 0;
  private invalid = 0;
  private repaired = 0;
  private readonly repairs = emptyRepairCounts();
  private line = 0;

  constructor(private readonly maxItemLength: number) {}

  push(piece: LinePiece): void {
    this.queue.push(piece);
    this.drain();
  }

  /** The source has ended: the last events, or FeedFormatError. */
  end(): void {
    for (;;) {
      // An item over several lines that runs to the end of the text swallowed the envelope's end: read its lines again.
      if (this.held) this.release(this.held);
      else if (this.value?.replay) this.giveUpItem(this.value);
      else break;
      this.drain();
    }
    if (this.state === State.Done) {
      this.events.push({ kind: 'end', itemsCount: this.itemsCount, items: this.items, invalid: this.invalid, repaired: this.repaired, repairs: this.repairs, site: this.site, generationDate: this.generationDate });
      return;
    }
    if (this.state === State.Root) throw emptyFeed();
    if (this.state === State.Items) throw new FeedFormatError(`The feed is truncated: it ended at line ${this.line}, inside the items array (after ${this.index} items), without closing it.`);
    if (this.itemsClosed) throw new FeedFormatError(`The feed is truncated: its envelope does not close after the items array (it ended at line ${this.line}).`);
    throw new FeedFormatError(`The feed is truncated: it ended at line ${this.line}, before its envelope closed.`);
  }

  private drain(): void {
    while (this.queue.length > 0) this.read(this.queue.shift()!);
  }

  private read(piece: LinePiece): void {
    this.line = piece.line;
    if (this.skipLine) {
      this.skipLine = !piece.end;
      return;
    }
    if (piece.start && piece.end && this.state === State.Items && this.value === null && piece.text.length <= this.maxItemLength && this.readWholeItemLine(piece)) return;
    const { text } = piece;
    let i = 0;
    this.value?.replay?.push(piece);
    while (i < text.length && !this.skipLine) {
      if (this.value) i = this.continueValue(piece, i);
      else i = this.step(piece, i);
      if (i < 0) return; // the piece is queued to be read again
    }
    if (piece.end && !this.skipLine) this.endLine(piece);
    this.skipLine &&= !piece.end;
  }

  /** The fast path: the whole line is one item, with or without a separator at either end. */
  private readWholeItemLine(piece: LinePiece): boolean {
    let text = piece.text.trim();
    if (text === '') return true;
    if (text.charCodeAt(0) === 0x2c) text = text.slice(1).trimStart();
    if (text.charCodeAt(text.length - 1) === 0x2c) text = text.slice(0, -1).trimEnd();
    if (text === '') return true;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
    this.confirmHeld();
    this.emitItem(value, piece.line, text);
    return true;
  }

  /** One step outside any value; returns where to go on. */
  private step(piece: LinePiece, i: number): number {
    const { text } = piece;
    const c = text.charCodeAt(i);
    if (isJsonWhitespace(c) || (c === 0xfeff && this.state === State.Root && piece.line === 1 && i === 0)) return i + 1;
    switch (this.state) {
      case State.Root:
        if (c !== 0x7b) throw notAnEnvelope(text.slice(i));
        this.state = State.Key;
        return i + 1;
      case State.Key:
        if (c === 0x7d) return this.closeEnvelope(i);
        if (c !== 0x22) throw this.envelopeError(piece, i, 'a field name');
        return this.startValue('key', piece, i);
      case State.Colon:
        if (c !== 0x3a) throw this.envelopeError(piece, i, '":"');
        this.state = State.Value;
        return i + 1;
      case State.Value:
        if (this.key !== 'items') return this.startValue('field', piece, i);
        if (c !== 0x5b) throw new FeedFormatError('The feed\'s "items" is not an array.');
        if (this.itemsOpened) throw new FeedFormatError('The feed has two "items" arrays.');
        this.itemsOpened = true;
        this.state = State.Items;
        this.events.push({ kind: 'header', site: this.site, generationDate: this.generationDate });
        return i + 1;
      case State.AfterValue:
        if (c === 0x2c) this.state = State.Key;
        else if (c === 0x7d) return this.closeEnvelope(i);
        else throw this.envelopeError(piece, i, '"," or "}"');
        return i + 1;
      case State.Items:
        this.confirmHeld();
        if (c === 0x2c) return i + 1;
        if (c === 0x5d) {
          this.itemsClosed = true;
          this.state = State.AfterValue;
          return i + 1;
        }
        if (startsValue(c)) return this.startValue('item', piece, i);
        this.reportInvalid(piece.line, `Unexpected text where an item should start: ${JSON.stringify(sample(text.slice(i).trim(), 60))}.`, text.slice(i));
        this.skipLine = true;
        return text.length;
      case State.Done:
        throw new FeedFormatError(`Unexpected text after the feed's envelope, at line ${piece.line}: ${JSON.stringify(sample(text.slice(i).trim(), 60))}.`);
    }
  }

  private startValue(role: Value['role'], piece: LinePiece, i: number): number {
    const keep = role !== 'field' || READ_FIELDS.has(this.key);
    this.value = { role, structure: new JsonStructure(), parts: [], chars: 0, line: piece.line, keep, head: '', firstLine: null, replay: null };
    return this.continueValue(piece, i);
  }

  /** Reads on in the current value; returns where to go on, or -1 when the pieces are to be read again. */
  private continueValue(piece: LinePiece, from: number): number {
    const value = this.value!;
    const scanned = value.structure.scan(piece.text, from);
    const to = scanned.kind === 'done' ? scanned.end : scanned.kind === 'broken' ? scanned.at : piece.text.length;
    this.keep(value, piece.text.slice(from, to));
    // An item over several lines that grows too long is not read on: it may be a broken line swallowing the items after it.
    if (value.replay && !value.keep) return this.giveUpItem(value);
    if (scanned.kind === 'more') return to;
    if (scanned.kind === 'done') {
      this.value = null;
      return this.finishValue(value) ? to : -1;
    }
    if (value.role !== 'item') throw new FeedFormatError(`The feed's envelope is not valid JSON at line ${piece.line}: ${scanned.reason}.`);
    if (value.replay) return this.giveUpItem(value);
    this.value = null;
    this.reportInvalid(value.line, undefined, value.firstLine ?? value.head + value.parts.join('') + piece.text.slice(to));
    this.skipLine = true;
    return piece.text.length;
  }

  /** A value has ended; false when it was an item over several lines that turned out broken. */
  private finishValue(value: Value): boolean {
    const text = value.parts.join('');
    if (value.role === 'key') {
      const parsed = parseItemText(text);
      if (!parsed.ok) throw new FeedFormatError(`The feed's envelope has a field name that is not valid JSON: ${parsed.reason}`);
      this.key = stringOrNull(parsed.value) ?? '';
      this.state = State.Colon;
      return true;
    }
    if (value.role === 'field') {
      this.state = State.AfterValue;
      if (!value.keep) return true;
      const parsed = parseItemText(text);
      if (!parsed.ok) throw new FeedFormatError(`The feed's "${this.key}" is not valid JSON: ${parsed.reason}`);
      if (this.key === 'site') this.site = stringOrNull(parsed.value);
      else if (this.key === 'generationDate') this.generationDate = stringOrNull(parsed.value);
      else this.itemsCount = countOrNull(parsed.value);
      return true;
    }
    if (!value.keep) {
      this.reportInvalid(value.line, `The item is ${value.chars} characters long, more than the ${this.maxItemLength} allowed.`, value.head);
      return true;
    }
    if (!value.replay) {
      this.emitItem(undefined, value.line, text);
      return true;
    }
    const parsed = parseItemText(text);
    if (!parsed.ok) {
      this.giveUpItem(value);
      return false;
    }
    const index = this.index;
    this.emitItem(undefined, value.line, text, parsed);
    // Held back until the text after it shows that it did not run over the envelope's end.
    this.held = { event: this.events.pop()!, firstLine: value.firstLine!, line: value.line, index, spanned: value.replay };
    return true;
  }

  /** The line has ended inside a value. */
  private endLine(piece: LinePiece): void {
    const value = this.value;
    // A text that stops inside a value is truncated: end() says so.
    if (!value || piece.eof) return;
    const ended = value.structure.endLine();
    if (ended.kind === 'done') {
      this.value = null;
      this.finishValue(value);
      return;
    }
    if (ended.kind === 'broken') {
      if (value.role !== 'item') throw new FeedFormatError(`The feed's envelope is not valid JSON at line ${piece.line}: ${ended.reason}.`);
      if (value.replay) {
        this.giveUpItem(value);
        return;
      }
      this.value = null;
      this.reportInvalid(value.line, undefined, value.firstLine ?? value.head + value.parts.join(''));
      return;
    }
    if (value.role === 'item' && value.firstLine === null) {
      value.firstLine = value.keep ? value.parts.join('') : value.head;
      // Kept only while the item is: one already too long on its first line is not read again.
      if (value.keep) value.replay = [];
    }
    this.keep(value, '\n');
  }

  private keep(value: Value, text: string): void {
    value.chars += text.length;
    if (!value.keep) return;
    const limit = value.role === 'item' ? this.maxItemLength : MAX_FIELD_CHARS;
    if (value.chars <= limit) {
      value.parts.push(text);
      return;
    }
    if (value.role !== 'item') throw new FeedFormatError(`The feed's "${this.key}" is longer than ${limit} characters.`);
    value.keep = false;
    value.head = sample(value.parts.join('') + text);
    value.parts = [];
  }

  /**
   * An item over several lines is broken (or too long to keep reading): its first line is reported
   * invalid, and the lines after it are read again from their start. Returns -1: the current piece
   * is among them.
   */
  private giveUpItem(value: Value): number {
    this.value = null;
    this.state = State.Items;
    this.reportInvalid(value.line, undefined, value.firstLine ?? value.head);
    this.queue.unshift(...(value.replay ?? []));
    return -1;
  }

  private confirmHeld(): void {
    if (!this.held) return;
    this.events.push(this.held.event);
    this.held = null;
  }

  /** Takes back a held item: its first line is invalid, and the lines after it are read again. */
  private release(held: Held): void {
    this.held = null;
    const event = held.event;
    if (event.kind === 'invalid') this.invalid--;
    if (event.kind === 'item') {
      this.items--;
      if (event.repairs) {
        this.repaired--;
        for (const { kind, count } of event.repairs) this.repairs[kind] -= count;
      }
    }
    this.index = held.index;
    this.state = State.Items;
    this.reportInvalid(held.line, undefined, held.firstLine);
    this.queue.unshift(...held.spanned);
  }

  private emitItem(value: unknown, line: number, text: string, parsed = value === undefined ? parseItemText(text) : { ok: true as const, value }): void {
    const index = this.index++;
    if (!parsed.ok) {
      this.invalid++;
      this.events.push({ kind: 'invalid', line, index, reason: parsed.reason, text: sample(text) });
    } else if (!isPlainObject(parsed.value)) {
      this.invalid++;
      this.events.push({ kind: 'invalid', line, index, reason: 'The item is not a JSON object.', text: sample(text) });
    } else if ('repairs' in parsed && parsed.repairs) {
      this.items++;
      this.repaired++;
      for (const { kind, count } of parsed.repairs) this.repairs[kind] += count;
      this.events.push({ kind: 'item', line, index, value: parsed.value, repairs: parsed.repairs });
    } else {
      this.items++;
      this.events.push({ kind: 'item', line, index, value: parsed.value });
    }
  }

  /** An invalid item; without a reason, the one `JSON.parse` gives for its text. */
  private reportInvalid(line: number, reason: string | undefined, text: string): void {
    const shown = text.trim();
    const parsed = reason === undefined ? parseItemText(shown) : undefined;
    this.invalid++;
    this.events.push({ kind: 'invalid', line, index: this.index++, reason: reason ?? (parsed && !parsed.ok ? parsed.reason : 'The item is not valid JSON.'), text: sample(shown) });
  }

  private closeEnvelope(i: number): number {
    if (!this.itemsOpened) throw new FeedFormatError('The feed has no "items" array: expected the envelope {site, generationDate, items: [...], itemsCount}.');
    this.state = State.Done;
    return i + 1;
  }

  private envelopeError(piece: LinePiece, i: number, expected: string): FeedFormatError {
    return new FeedFormatError(`The feed's envelope is not valid JSON at line ${piece.line}: expected ${expected}, found ${JSON.stringify(sample(piece.text.slice(i).trim(), 60))}.`);
  }
}
