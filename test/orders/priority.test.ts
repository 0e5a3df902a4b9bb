import { describe, expect, it } from 'vitest';
import { PRIORITY_NAMES, priorityLevel, priorityName } from '../../src/orders/priority.js';
import { validateOrder as validateOrderInput } from '../../src/orders/orders.validation.js';
import { isDomainError, ValidationError } from '../../src/platform/errors/domain-errors.js';
import { httpErrorOf } from '../../src/platform/http/domain-error-mapping.js';
import { HttpError } from '../../src/platform/http/errors.js';

/** validateOrder as the API sees it: its domain error mapped at the HTTP edge. */
function validateOrder(...args: Parameters<typeof validateOrderInput>): ReturnType<typeof validateOrderInput> {
  try {
    return validateOrderInput(...args);
  } catch (error) {
    throw isDomainError(error) ? httpErrorOf(error) : error;
  }
}

describe('priority mapping', () => {
  it.each([
    ['low', 1],
    ['normal', 2],
    ['high', 3],
    ['critical', 4],
    ['max', 5],
  ] as const)('maps %s to %i', (name, level) => {
    expect(priorityLevel(name)).toBe(level);
    expect(priorityName(level)).toBe(name);
  });

  it('maps max to 5, not to normal', () => {
    expect(priorityLevel('max')).toBe(5);
  });

  it('treats an absent priority as normal (2)', () => {
    expect(priorityLevel(undefined)).toBe(2);
  });

  it('names an unknown level normal rather than failing', () => {
    expect(priorityName(0)).toBe('normal');
    expect(priorityName(6)).toBe('normal');
  });

  it('lists the names from lowest to highest', () => {
    expect(PRIORITY_NAMES).toEqual(['low', 'normal', 'high', 'critical', 'max']);
  });
});

describe('validateOrder', () => {
  const valid = { client: { identity: ' ACME ', contact_point: 'ops@acme.test' }, contents: [{ label: 'Widget', kind: 'recurring', cost: 0.07, meta: { priority: 'max' } }] };

  it('trims strings, converts cost to whole cents and resolves the priority', () => {
    expect(validateOrder(valid, {})).toEqual({
      client: { identity: 'ACME', contact_point: 'ops@acme.test' },
      contents: [{ label: 'Widget', kind: 'recurring', costCents: 7, meta: { priority: 'max' }, priority: 5 }],
    });
  });

  it('converts the largest cost to exact cents', () => {
    const input = validateOrder({ ...valid, contents: [{ label: 'x', kind: 'single', cost: 99_999_999.99 }] }, {});
    expect(input.contents[0]).toMatchObject({ costCents: 9_999_999_999, meta: {}, priority: 2 });
  });

  it('turns an empty meta array into {}', () => {
    expect(validateOrder({ ...valid, contents: [{ label: 'x', kind: 'single', cost: 1, meta: [] }] }, {}).contents[0]!.meta).toEqual({});
  });

  it('merges the schema errors with its own into one 422', () => {
    const body = { client: { identity: ' ', contact_point: 'x' }, contents: [{ label: 'x', kind: 'single', cost: 1.234 }] };
    let caught: unknown;
    try {
      validateOrder(body, { 'contents.0.kind': ['from the schema'] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HttpError);
    expect(caught).toMatchObject({
      statusCode: 422,
      errors: {
        'contents.0.kind': ['from the schema'],
        'client.identity': ['The client.identity field is required.'],
        'contents.0.cost': ['The contents.0.cost field must have 0-2 decimal places.'],
      },
    });
  });

  it('never throws anything but a 422 for bodies of the wrong shape', () => {
    for (const body of [null, undefined, 1, 'x', [], { client: [], contents: {} }, { client: null, contents: [null, 1, 'x'] }]) {
      expect(() => validateOrder(body, { body: ['schema says no'] })).toThrow(HttpError);
    }
  });

  it('throws a ValidationError, which knows no HTTP, naming every field', () => {
    const body = { client: { identity: ' ', contact_point: 'x' }, contents: [{ label: 'x', kind: 'single', cost: 1.234 }] };
    let caught: unknown;
    try {
      validateOrderInput(body, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({
      message: 'The client.identity field is required. (and 1 more error)',
      fieldErrors: { 'client.identity': ['The client.identity field is required.'], 'contents.0.cost': ['The contents.0.cost field must have 0-2 decimal places.'] },
    });
    expect(caught).not.toHaveProperty('statusCode');
  });

  it('refuses an order without items even when no schema ran before it', () => {
    for (const contents of [[], undefined, Array.from({ length: 101 }, () => ({ label: 'x', kind: 'single', cost: 1 }))]) {
      expect(() => validateOrder({ ...valid, contents }, {})).toThrow(expect.objectContaining({ statusCode: 422, errors: expect.objectContaining({ contents: expect.any(Array) }) }));
    }
  });
});
