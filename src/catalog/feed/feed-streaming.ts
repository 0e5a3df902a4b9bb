/**
 * The fallback for a feed not laid out one item per line (all on one line, pretty-printed):
 * @streamparser/json emits each `$.items.*` and forgets it, so memory stays flat. The text goes
 * through the repairer on its way in, so the known defects are repaired here too; any other
 * syntax error cannot be skipped in a stream and fails the feed.
 */
import { JSONParser, TokenType, type ParsedElementInfo, type ParsedTokenInfo } from '@streamparser/json';
import {
  countOrNull,
  emptyFeed,
  FeedFormatError,
  isPlainObject,
  notAnEnvelope,
  sample,
  stringOrNull,
  type FeedEvent,
} from './feed-events.js';
import { emptyRepairCounts, JsonTextRepairer, REPAIR_KINDS, type Repair, type RepairCounts, type RepairKind } from './sanitize.js';

export async function* parseStreamLayout(chunks: AsyncIterable<Buffer>): AsyncGenerator<FeedEvent> {
  const queue: FeedEvent[] = [];
  const repairs = emptyRepairCounts();
  let line = 1;
  let index = 0;
  let items = 0;
  let invalid = 0;
  let repaired = 0;
  let site: string | null = null;
  let generationDate: string | null = null;
  let siteSeen = false;
  let dateSeen = false;
  let itemsCount: number | null = null;
  let headerSent = false;
  let failure: Error | null = null;
  let started = false;

  // The envelope's structure, followed from the tokens.
  let depth = 0;
  let rootKey: string | undefined;
  let expectRootKey = false;
  let inItems = false;
  let itemsOpened = false;
  let itemsClosed = false;
  let itemOpen = false;
  let itemLine = 0;
  let itemRepairs: RepairCounts | null = null;
  let closed = false;

  const sendHeader = (): void => {
    if (headerSent) return;
    headerSent = true;
    queue.push({ kind: 'header', site, generationDate, layout: 'stream' });
  };

  const parser = new JSONParser({ paths: ['$.site', '$.generationDate', '$.itemsCount', '$.items.*'], keepStack: false });
  parser.onError = (error) => {
    failure ??= closed
      ? new FeedFormatError(`Unexpected text after the feed's envelope, at line ${line}.`)
      : new FeedFormatError(`The feed is not valid JSON at line ${line}: ${error.message}`);
  };
  parser.onToken = ({ token, value }: ParsedTokenInfo) => {
    const opens = token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET;
    const closes = token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET;
    if (depth === 0 && token !== TokenType.LEFT_BRACE) {
      failure ??= new FeedFormatError('The feed is not a JSON object.');
      return;
    }
    if (depth === 2 && inItems && !itemOpen && !closes && token !== TokenType.COMMA) {
      itemOpen = true;
      itemLine = line;
      itemRepairs = null;
    }
    if (depth === 1) {
      if (token === TokenType.STRING && expectRootKey) {
        rootKey = value as string;
        expectRootKey = false;
      } else if (token === TokenType.COMMA) expectRootKey = true;
      else if (token === TokenType.LEFT_BRACKET && rootKey === 'items') inItems = itemsOpened = true;
    }
    if (opens) {
      depth++;
      if (depth === 1) expectRootKey = true;
    } else if (closes) {
      depth--;
      if (depth === 0) closed = true;
      if (depth === 1 && inItems) {
        inItems = false;
        itemsClosed = true;
      }
    }
  };
  parser.onValue = ({ value, key, parent, stack }: ParsedElementInfo) => {
    if (stack.length === 1) {
      if (key === 'site') [site, siteSeen] = [stringOrNull(value), true];
      else if (key === 'generationDate') [generationDate, dateSeen] = [stringOrNull(value), true];
      else if (key === 'itemsCount') itemsCount = countOrNull(value);
      if (siteSeen && dateSeen) sendHeader();
      return;
    }
    if (!Array.isArray(parent)) {
      failure ??= new FeedFormatError('The feed\'s "items" is not an array.');
      return;
    }
    sendHeader();
    itemOpen = false;
    if (!isPlainObject(value)) {
      invalid++;
      queue.push({ kind: 'invalid', line: itemLine, index: index++, reason: 'The item is not a JSON object.', text: sample(JSON.stringify(value) ?? '') });
      return;
    }
    items++;
    if (itemRepairs === null) {
      queue.push({ kind: 'item', line: itemLine, index: index++, value });
      return;
    }
    repaired++;
    queue.push({ kind: 'item', line: itemLine, index: index++, value, repairs: listOf(itemRepairs) });
  };

  const feed = (text: string): void => {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1 && failure === null; nl = text.indexOf('\n', start)) {
      feedPiece(text.slice(start, nl + 1));
      line++;
      start = nl + 1;
    }
    if (start < text.length && failure === null) feedPiece(start === 0 ? text : text.slice(start));
  };
  const feedPiece = (piece: string): void => {
    if (parser.isEnded) {
      if (piece.trim() !== '') failure = new FeedFormatError(`Unexpected text after the feed's envelope, at line ${line}: ${JSON.stringify(sample(piece.trim(), 60))}.`);
      return;
    }
    parser.write(piece);
  };
  const repairer = new JsonTextRepairer((text: string, kind?: RepairKind, count = 1) => {
    if (kind) {
      repairs[kind] += count;
      if (itemOpen) (itemRepairs ??= emptyRepairCounts())[kind] += count;
    }
    if (text !== '' && failure === null) feed(text);
  });

  const decoder = new TextDecoder('utf-8', { fatal: false });
  const push = (text: string): void => {
    if (!started) {
      const start = text.trimStart();
      if (start === '') return;
      if (start[0] !== '{') throw notAnEnvelope(start);
      started = true;
    }
    repairer.write(text);
  };

  for await (const chunk of chunks) {
    push(decoder.decode(chunk, { stream: true }));
    if (failure) throw failure;
    yield* queue.splice(0);
  }
  push(decoder.decode());
  repairer.end();
  if (failure) throw failure;
  if (!started) throw emptyFeed();
  if (!parser.isEnded) {
    const where = inItems ? `inside the items array (after ${index} items)` : 'before its envelope closed';
    throw new FeedFormatError(`The feed is truncated: it ended at line ${line}, ${where}.`);
  }
  if (!itemsOpened || !itemsClosed) throw new FeedFormatError(`The feed has no "items" array: expected the envelope {site, generationDate, items: [...], itemsCount}.`);
  sendHeader();
  yield* queue.splice(0);
  yield { kind: 'end', itemsCount, items, invalid, repaired, repairs, site, generationDate, layout: 'stream' };
}

function listOf(counts: RepairCounts): Repair[] {
  return REPAIR_KINDS.filter((kind) => counts[kind] > 0).map((kind) => ({ kind, count: counts[kind] }));
}
