/**
 * What Laravel did to the seed's requests before its rules ran, for the fields that are not text:
 *
 * - the `integer` rule takes a numeric string: `"30"` (and `" 30 "`: TrimStrings) is 30;
 * - ConvertEmptyStringsToNull: `""` is null where the field may be null.
 *
 * Only that: `"30.5"`, `"1e3"`, `"007"` or `"abc"` stay strings, and the schema then answers them
 * with a 422 ("must be an integer"). Text fields are left as sent; their own checks trim them.
 * Driven by the route's body schema, so that a field documented as an integer is read as one.
 */

/** The parts of a JSON schema this reads. */
interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/** PHP's FILTER_VALIDATE_INT, which Laravel's `integer` rule uses: no leading zeros, no decimals. */
const INTEGER_TEXT = /^[+-]?(0|[1-9]\d*)$/;

export function coerceLaravelInput(schema: object, value: unknown): unknown {
  return coerce(schema as SchemaNode, value);
}

function coerce(schema: SchemaNode, value: unknown): unknown {
  if (Array.isArray(value)) return schema.items ? coerceItems(schema.items, value) : value;
  if (typeof value === 'object' && value !== null) return schema.properties ? coerceProperties(schema.properties, value as Record<string, unknown>) : value;
  return typeof value === 'string' ? coerceText(schema, value) : value;
}

/** A copy with the changed properties, or the object itself when nothing changed. */
function coerceProperties(properties: Record<string, SchemaNode>, value: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, property] of Object.entries(properties)) {
    if (!Object.hasOwn(value, key)) continue;
    const next = coerce(property, value[key]);
    if (next !== value[key]) (out ??= { ...value })[key] = next;
  }
  return out ?? value;
}

function coerceItems(items: SchemaNode, value: unknown[]): unknown[] {
  const next = value.map((item) => coerce(items, item));
  return next.some((item, i) => item !== value[i]) ? next : value;
}

function coerceText(schema: SchemaNode, value: string): unknown {
  const types = schema.type === undefined ? [] : [schema.type].flat();
  if (types.includes('string')) return value;
  const text = value.trim();
  if (text === '' && (types.includes('null') || (schema.enum?.includes(null) ?? false))) return null;
  if (types.includes('integer') && INTEGER_TEXT.test(text)) {
    const number = Number(text);
    return number === 0 ? 0 : number;
  }
  return value;
}
