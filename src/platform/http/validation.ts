import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { addFieldError, type FieldErrors } from '../errors/field-errors.js';

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: false, ...options });
  addFormats.default(ajv);
  return ajv;
}

/** Bodies are taken as sent: no coercion, every error reported. */
const bodyAjv = createAjv({ coerceTypes: false, allErrors: true, useDefaults: false, removeAdditional: false });
/** Query strings and path parameters arrive as text and are coerced to the schema's types. */
const paramsAjv = createAjv({ coerceTypes: 'array', allErrors: true, useDefaults: true, removeAdditional: false });

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodyAjv : paramsAjv).compile(schema as object);
  return (data: unknown) => (validate(data) ? { value: data } : { error: Object.assign(new Error('validation failed'), { validation: validate.errors }) });
};

export function compileBodyValidator<T>(schema: object): ValidateFunction<T> {
  return bodyAjv.compile<T>(schema);
}

/** Ajv errors as Laravel's `{ "contents.1.kind": ["The selected contents.1.kind is invalid."] }`. */
export function toFieldErrors(errors: readonly ErrorObject[] | null | undefined, prefix = ''): FieldErrors {
  const out: FieldErrors = {};
  for (const error of errors ?? []) {
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf' || error.keyword === 'if') continue;
    const base = [prefix, ...error.instancePath.split('/').slice(1)].filter(Boolean).join('.');
    const missing = error.keyword === 'required' ? (error.params as { missingProperty: string }).missingProperty : undefined;
    const field = missing ? [base, missing].filter(Boolean).join('.') : base || '(body)';
    const message = describe(error, field);
    if (!out[field]?.includes(message)) addFieldError(out, field, message);
  }
  return out;
}

function describe(error: ErrorObject, field: string): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `The ${field} field is required.`;
    case 'type':
      return `The ${field} field must be ${typeName(String(p.type))}.`;
    case 'enum':
    case 'const':
      return `The selected ${field} is invalid.`;
    case 'minLength':
      return `The ${field} field must be at least ${String(p.limit)} characters.`;
    case 'maxLength':
      return `The ${field} field must not be greater than ${String(p.limit)} characters.`;
    case 'minimum':
      return `The ${field} field must be at least ${String(p.limit)}.`;
    case 'maximum':
      return `The ${field} field must not be greater than ${String(p.limit)}.`;
    case 'exclusiveMinimum':
      return `The ${field} field must be greater than ${String(p.limit)}.`;
    case 'exclusiveMaximum':
      return `The ${field} field must be less than ${String(p.limit)}.`;
    case 'minItems':
      return `The ${field} field must have at least ${String(p.limit)} items.`;
    case 'maxItems':
      return `The ${field} field must not have more than ${String(p.limit)} items.`;
    case 'format':
      return p.format === 'email' ? `The ${field} field must be a valid email address.` : `The ${field} field must be a valid ${String(p.format)}.`;
    case 'additionalProperties':
      return `The ${field}.${String(p.additionalProperty)} field is not allowed.`;
    case 'pattern':
      return `The ${field} field format is invalid.`;
    default:
      return `The ${field} field is invalid.`;
  }
}

function typeName(type: string): string {
  const names: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    integer: 'an integer',
    boolean: 'true or false',
    object: 'an object',
    array: 'an array',
    null: 'null',
  };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

/**
 * Field errors from the route schema when the route uses `attachValidation`, so that a handler
 * can add the rules a schema cannot express and answer every problem in one 422.
 */
export function schemaErrorsOf(request: { validationError?: Error & { validation?: unknown } }): FieldErrors {
  const validation = request.validationError?.validation;
  return Array.isArray(validation) ? toFieldErrors(validation as ErrorObject[]) : {};
}

/** Number of Unicode code points, as Laravel's `max:255` counts them. */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * What no database stores as sent: a UTF-16 surrogate without its other half (a JSON `\ud800`
 * escape: it becomes U+FFFD, and strict JSON parsers refuse it when it is echoed back), and NUL
 * (`\u0000`: PostgreSQL's text refuses it outright).
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses.
const UNSTORABLE_CHARACTER = /[\u0000\uD800-\uDFFF]/u;

export function hasUnstorableCharacter(text: string): boolean {
  return UNSTORABLE_CHARACTER.test(text);
}

function unstorableTextMessage(field: string): string {
  return `The ${field} field must not contain NUL characters or unpaired surrogates.`;
}

/** Refuses (with a field error) a string holding a lone surrogate; true when `value` is fine or not a string. */
export function checkUnicode(errors: FieldErrors, field: string, value: unknown): boolean {
  if (typeof value !== 'string' || !hasUnstorableCharacter(value)) return true;
  addFieldError(errors, field, unstorableTextMessage(field));
  return false;
}

/**
 * Field errors for every string (and key) holding a lone surrogate in a parsed JSON value, by
 * dotted path under `prefix` (a bad key is reported on its object). Walked without recursion.
 */
export function unstorableTextErrors(value: unknown, prefix = ''): FieldErrors {
  const errors: FieldErrors = {};
  const report = (path: string) => {
    const field = path || '(body)';
    if (!errors[field]) addFieldError(errors, field, unstorableTextMessage(field));
  };
  // Breadth first, so that errors come in the order of the fields.
  const pending: Array<{ node: unknown; path: string }> = [{ node: value, path: prefix }];
  for (let i = 0; i < pending.length; i++) {
    const { node, path } = pending[i]!;
    if (typeof node === 'string') {
      if (hasUnstorableCharacter(node)) report(path);
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        if (hasUnstorableCharacter(key)) report(path);
        else pending.push({ node: child, path: path ? `${path}.${key}` : key });
      }
    }
  }
  return errors;
}

/** Laravel's trim-then-required-then-max rule for one string field, which also refuses lone surrogates. */
export function checkText(errors: FieldErrors, field: string, value: unknown, max = 255): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!checkUnicode(errors, field, value)) return undefined;
  const trimmed = value.trim();
  if (trimmed.length === 0) addFieldError(errors, field, `The ${field} field is required.`);
  else if (codePointLength(trimmed) > max) addFieldError(errors, field, `The ${field} field must not be greater than ${max} characters.`);
  else return trimmed;
  return undefined;
}
