import { ValidationError } from '../platform/errors/domain-errors.js';
import { addFieldError, type FieldErrors } from '../platform/errors/field-errors.js';
import { checkText, unstorableTextErrors } from '../platform/http/validation.js';
import { valueNestingExceeds } from '../platform/json-depth.js';
import type { Priority } from '../platform/queue/queue.js';
import type { ItemKind } from './orders.tables.js';
import { PRIORITY_NAMES, priorityLevel, type PriorityName } from './priority.js';

export const MAX_META_BYTES = 4096;
/** Arrays and objects nested in `meta`, itself included: measured before anything recursive (JSON.stringify) walks it. */
export const MAX_META_DEPTH = 32;
export const MAX_ITEMS = 100;

export interface OrderItemInput {
  label: string;
  kind: ItemKind;
  costCents: number;
  meta: Record<string, unknown>;
  priority: Priority;
}

export interface OrderInput {
  client: { identity: string; contact_point: string };
  contents: OrderItemInput[];
}

/**
 * The rules a JSON schema cannot say (trimmed lengths, two decimals, meta size and priority),
 * merged with the schema's own errors so that one 422 names every problem.
 */
export function validateOrder(body: unknown, schemaErrors: FieldErrors): OrderInput {
  const errors: FieldErrors = { ...schemaErrors };
  const root = isObject(body) ? body : {};
  const client = isObject(root.client) ? root.client : {};
  const identity = checkText(errors, 'client.identity', client.identity);
  const contactPoint = checkText(errors, 'client.contact_point', client.contact_point);
  const items = Array.isArray(root.contents) ? root.contents : [];
  if (!errors.contents && (items.length < 1 || items.length > MAX_ITEMS)) {
    addFieldError(errors, 'contents', `The contents field must have between 1 and ${MAX_ITEMS} items.`);
  }
  const contents = items.map((item, i) => validateItem(errors, `contents.${i}`, item));

  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  return {
    client: { identity: identity!, contact_point: contactPoint! },
    contents: contents as OrderItemInput[],
  };
}

function validateItem(errors: FieldErrors, path: string, item: unknown): OrderItemInput | undefined {
  if (!isObject(item)) return undefined;
  const label = checkText(errors, `${path}.label`, item.label);
  const costCents = toCents(errors, `${path}.cost`, item.cost);
  const meta = validateMeta(errors, `${path}.meta`, item.meta);
  if (label === undefined || costCents === undefined || meta === undefined) return undefined;
  if (item.kind !== 'single' && item.kind !== 'recurring') return undefined;
  return { label, kind: item.kind, costCents, meta, priority: priorityLevel(meta.priority as PriorityName | undefined) };
}

function toCents(errors: FieldErrors, field: string, cost: unknown): number | undefined {
  if (typeof cost !== 'number' || !Number.isFinite(cost)) return undefined;
  const cents = Math.round(cost * 100);
  if (Math.abs(cost * 100 - cents) > 1e-6) {
    addFieldError(errors, field, `The ${field} field must have 0-2 decimal places.`);
    return undefined;
  }
  return cents;
}

function validateMeta(errors: FieldErrors, field: string, meta: unknown): Record<string, unknown> | undefined {
  if (meta === undefined || (Array.isArray(meta) && meta.length === 0)) return {};
  if (!isObject(meta)) {
    addFieldError(errors, field, `The ${field} field must be an object.`);
    return undefined;
  }
  if (valueNestingExceeds(meta, MAX_META_DEPTH)) {
    addFieldError(errors, field, `The ${field} field must not nest arrays and objects more than ${MAX_META_DEPTH} levels deep.`);
    return undefined;
  }
  if (Buffer.byteLength(JSON.stringify(meta)) > MAX_META_BYTES) {
    addFieldError(errors, field, `The ${field} field must not be greater than 4 kilobytes.`);
    return undefined;
  }
  const unicodeErrors = Object.entries(unstorableTextErrors(meta, field));
  if (unicodeErrors.length > 0) {
    for (const [key, messages] of unicodeErrors) for (const message of messages) addFieldError(errors, key, message);
    return undefined;
  }
  if ('priority' in meta && !(PRIORITY_NAMES as readonly unknown[]).includes(meta.priority)) {
    addFieldError(errors, `${field}.priority`, `The selected ${field}.priority is invalid.`);
    return undefined;
  }
  return meta;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
