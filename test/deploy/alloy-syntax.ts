/**
 * A reader for the part of Alloy's configuration syntax that deploy/alloy/config.alloy uses:
 * blocks (`name "label" { ... }`), attributes (`key = value`), strings, numbers, booleans, lists,
 * objects and references to other components' exports. Enough for tests to walk the pipeline.
 */

export class AlloyRef {
  constructor(readonly path: string) {}
}

export type AlloyValue = string | number | boolean | null | AlloyRef | AlloyValue[] | { [key: string]: AlloyValue };

export interface AlloyBlock {
  name: string;
  label?: string;
  attributes: Record<string, AlloyValue>;
  blocks: AlloyBlock[];
}

type Token = { kind: 'ident' | 'string' | 'number' | 'punct'; text: string; value?: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"\\\n]|\\.)*)"|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*)|([{}[\]=,])/y;
  while (pattern.lastIndex < source.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(source);
    if (!match) throw new Error(`unexpected character at offset ${at}: ${JSON.stringify(source.slice(at, at + 20))}`);
    const [text, string, number, ident, punct] = match;
    if (string !== undefined) tokens.push({ kind: 'string', text, value: JSON.parse(`"${string}"`) as string });
    else if (number !== undefined) tokens.push({ kind: 'number', text });
    else if (ident !== undefined) tokens.push({ kind: 'ident', text });
    else if (punct !== undefined) tokens.push({ kind: 'punct', text });
  }
  return tokens;
}

/** Parses a whole file into its top-level blocks (the components). */
export function parseAlloy(source: string): AlloyBlock[] {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const next = (): Token => {
    const token = tokens[i++];
    if (!token) throw new Error('unexpected end of file');
    return token;
  };
  const expect = (text: string) => {
    const token = next();
    if (token.text !== text) throw new Error(`expected "${text}", got "${token.text}"`);
  };

  function value(): AlloyValue {
    const token = next();
    if (token.kind === 'string') return token.value!;
    if (token.kind === 'number') return Number(token.text);
    if (token.kind === 'ident') {
      if (token.text === 'true' || token.text === 'false') return token.text === 'true';
      if (token.text === 'null') return null;
      return new AlloyRef(token.text);
    }
    if (token.text === '[') {
      const items: AlloyValue[] = [];
      while (peek()?.text !== ']') {
        items.push(value());
        if (peek()?.text === ',') next();
      }
      expect(']');
      return items;
    }
    if (token.text === '{') {
      const object: Record<string, AlloyValue> = {};
      while (peek()?.text !== '}') {
        const key = next();
        expect('=');
        object[key.value ?? key.text] = value();
        if (peek()?.text === ',') next();
      }
      expect('}');
      return object;
    }
    throw new Error(`unexpected "${token.text}"`);
  }

  function body(block: AlloyBlock, until: string | undefined): AlloyBlock {
    while (peek() !== undefined && peek()!.text !== until) {
      const name = next();
      if (name.kind !== 'ident') throw new Error(`expected a block or an attribute, got "${name.text}"`);
      if (peek()?.text === '=') {
        next();
        block.attributes[name.text] = value();
        continue;
      }
      const label = peek()?.kind === 'string' ? next().value : undefined;
      expect('{');
      block.blocks.push(body({ name: name.text, label, attributes: {}, blocks: [] }, '}'));
      expect('}');
    }
    return block;
  }

  return body({ name: '', attributes: {}, blocks: [] }, undefined).blocks;
}

/** The one component `name "label"` of a file, or a thrown error naming what is there. */
export function component(components: AlloyBlock[], name: string, label?: string): AlloyBlock {
  const found = components.filter((c) => c.name === name && (label === undefined || c.label === label));
  if (found.length !== 1) throw new Error(`expected one ${name} "${label ?? '*'}", found ${found.length} among ${components.map((c) => `${c.name} "${c.label}"`).join(', ')}`);
  return found[0]!;
}

/** The nested block of that name (one level down), or a thrown error. */
export function child(block: AlloyBlock, name: string): AlloyBlock {
  const found = block.blocks.find((b) => b.name === name);
  if (!found) throw new Error(`${block.name} "${block.label}" has no ${name} block`);
  return found;
}

/** Every reference in a block, its attributes and nested blocks, however deep. */
export function references(block: AlloyBlock): AlloyRef[] {
  const inValue = (v: AlloyValue): AlloyRef[] => {
    if (v instanceof AlloyRef) return [v];
    if (Array.isArray(v)) return v.flatMap(inValue);
    if (v !== null && typeof v === 'object') return Object.values(v).flatMap(inValue);
    return [];
  };
  return [...Object.values(block.attributes).flatMap(inValue), ...block.blocks.flatMap(references)];
}
