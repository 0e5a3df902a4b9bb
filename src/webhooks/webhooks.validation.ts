import { addFieldError, type FieldErrors } from '../platform/errors/field-errors.js';
import { checkUnicode, codePointLength } from '../platform/http/validation.js';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-types.js';

export const MAX_DESCRIPTION_LENGTH = 255;

/** The fields of a create or update body that passed the rules a JSON schema cannot say (the URL policy is checked apart). */
export interface EndpointFields {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
  enabled?: boolean;
}

/**
 * Adds to the route schema's `errors` (types, required fields, known event types) the rules a
 * schema cannot say; returns the fields present and valid so far.
 */
export function validateEndpointFields(body: unknown, errors: FieldErrors): EndpointFields {
  const root = isObject(body) ? body : {};
  const fields: EndpointFields = {};
  if (typeof root.url === 'string' && !errors.url) fields.url = root.url;
  if (Array.isArray(root.events)) fields.events = checkEvents(errors, root.events);
  if ('description' in root) fields.description = checkDescription(errors, root.description);
  if (typeof root.enabled === 'boolean') fields.enabled = root.enabled;
  return fields;
}

function checkEvents(errors: FieldErrors, events: unknown[]): WebhookEventType[] | undefined {
  const seen = new Set<string>();
  let valid = events.length > 0;
  events.forEach((event, i) => {
    if (!isWebhookEventType(event)) {
      if (!errors[`events.${i}`]) addFieldError(errors, `events.${i}`, `The selected events.${i} is invalid (one of ${WEBHOOK_EVENT_TYPES.join(', ')}).`);
      valid = false;
    } else if (seen.has(event)) {
      addFieldError(errors, `events.${i}`, `The events.${i} field has a duplicate value.`);
      valid = false;
    } else seen.add(event);
  });
  return valid ? [...seen] as WebhookEventType[] : undefined;
}

/** Trimmed; empty or null clears it. */
function checkDescription(errors: FieldErrors, value: unknown): string | null | undefined {
  if (value === null) return null;
  if (typeof value !== 'string' || !checkUnicode(errors, 'description', value)) return undefined;
  const trimmed = value.trim();
  if (codePointLength(trimmed) > MAX_DESCRIPTION_LENGTH) {
    addFieldError(errors, 'description', `The description field must not be greater than ${MAX_DESCRIPTION_LENGTH} characters.`);
    return undefined;
  }
  return trimmed === '' ? null : trimmed;
}

/** The `types` filter of GET /api/events: comma-separated event types; undefined (every type) when none is named. */
export function parseEventTypes(errors: FieldErrors, types: string | undefined): WebhookEventType[] | undefined {
  if (types === undefined) return undefined;
  const named = types.split(',').map((type) => type.trim()).filter((type) => type !== '');
  const unknown = named.filter((type) => !isWebhookEventType(type));
  if (unknown.length > 0) addFieldError(errors, 'types', `The types field must list event types among ${WEBHOOK_EVENT_TYPES.join(', ')}.`);
  return named.length === 0 || unknown.length > 0 ? undefined : [...new Set(named)] as WebhookEventType[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
