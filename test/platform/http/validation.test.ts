import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { addFieldError, summarize, type FieldErrors } from '../../../src/platform/errors/field-errors.js';
import { checkText, codePointLength, compileBodyValidator, toFieldErrors } from '../../../src/platform/http/validation.js';

function fieldErrorsFor(schema: object, data: unknown): FieldErrors {
  const validate = compileBodyValidator(schema);
  expect(validate(data)).toBe(false);
  return toFieldErrors(validate.errors);
}

describe('schema errors as Laravel field errors', () => {
  const Order = Type.Object({
    client: Type.Object({ identity: Type.String() }),
    contents: Type.Array(Type.Object({ kind: Type.Union([Type.Literal('single'), Type.Literal('recurring')]), cost: Type.Number({ minimum: 0 }) }), { minItems: 1 }),
  });

  it('names nested fields with dotted keys, array indexes included', () => {
    const errors = fieldErrorsFor(Order, { client: {}, contents: [{ kind: 'single', cost: 1 }, { kind: 'weekly', cost: -1 }] });
    expect(errors).toEqual({
      'client.identity': ['The client.identity field is required.'],
      'contents.1.kind': ['The selected contents.1.kind is invalid.'],
      'contents.1.cost': ['The contents.1.cost field must be at least 0.'],
    });
  });

  it('reports a wrong type by its JSON type name', () => {
    expect(fieldErrorsFor(Order, { client: 'x', contents: 'y' })).toEqual({
      client: ['The client field must be an object.'],
      contents: ['The contents field must be an array.'],
    });
  });

  it('does not coerce body values: a numeric string is not a number', () => {
    expect(fieldErrorsFor(Order, { client: { identity: 'a' }, contents: [{ kind: 'single', cost: '1' }] })).toEqual({
      'contents.0.cost': ['The contents.0.cost field must be a number.'],
    });
  });

  it('names a wrong root as (body)', () => {
    expect(fieldErrorsFor(Order, [])).toEqual({ '(body)': ['The (body) field must be an object.'] });
  });

  it.each([
    [Type.String({ maxLength: 3 }), 'abcd', 'The (body) field must not be greater than 3 characters.'],
    [Type.String({ format: 'email' }), 'nope', 'The (body) field must be a valid email address.'],
    [Type.Array(Type.Number(), { maxItems: 1 }), [1, 2], 'The (body) field must not have more than 1 items.'],
    [Type.Number({ maximum: 5 }), 6, 'The (body) field must not be greater than 5.'],
    [Type.Integer(), 1.5, 'The (body) field must be an integer.'],
  ])('describes %j', (schema, data, message) => {
    expect(fieldErrorsFor(schema, data)).toEqual({ '(body)': [message] });
  });

  it('returns no errors for none', () => {
    expect(toFieldErrors(null)).toEqual({});
  });
});

describe('Laravel text rule', () => {
  it('counts code points, not UTF-16 units', () => {
    expect(codePointLength('😀😀')).toBe(2);
    expect('😀😀').toHaveLength(4);
    expect(codePointLength('')).toBe(0);
  });

  it('trims, then requires, then bounds the length', () => {
    const errors: FieldErrors = {};
    expect(checkText(errors, 'a', '  x  ')).toBe('x');
    expect(checkText(errors, 'b', '   ')).toBeUndefined();
    expect(checkText(errors, 'c', 'y'.repeat(256))).toBeUndefined();
    expect(checkText(errors, 'd', '😀'.repeat(255))).toBe('😀'.repeat(255));
    expect(checkText(errors, 'e', 'z'.repeat(11), 10)).toBeUndefined();
    expect(errors).toEqual({
      b: ['The b field is required.'],
      c: ['The c field must not be greater than 255 characters.'],
      e: ['The e field must not be greater than 10 characters.'],
    });
  });

  it('leaves a non-string to the schema, adding no error of its own', () => {
    const errors: FieldErrors = {};
    expect(checkText(errors, 'a', 42)).toBeUndefined();
    expect(errors).toEqual({});
  });
});

describe('Laravel summary message', () => {
  it('is the first message, with a count of the others', () => {
    const errors: FieldErrors = {};
    expect(summarize(errors)).toBe('The given data was invalid.');
    addFieldError(errors, 'a', 'First.');
    expect(summarize(errors)).toBe('First.');
    addFieldError(errors, 'a', 'Second.');
    expect(summarize(errors)).toBe('First. (and 1 more error)');
    addFieldError(errors, 'b', 'Third.');
    expect(summarize(errors)).toBe('First. (and 2 more errors)');
  });
});
