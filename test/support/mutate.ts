export interface Mutation {
  /** Dotted path into the value; `#` picks an array element by `index`; '' replaces the whole value. */
  path: string;
  index: number;
  value: unknown;
  remove: boolean;
}

/** Sets (or deletes) one path of a JSON-like value, creating nothing where the parent is not a container. */
export function mutate(value: unknown, m: Mutation): unknown {
  if (m.path === '') return m.value;
  const root = structuredClone(value) as Record<string, unknown>;
  const keys = m.path.split('.');
  let node: unknown = root;
  for (const [depth, raw] of keys.entries()) {
    if (node === null || typeof node !== 'object') return root;
    const container = node as Record<string, unknown>;
    const key = raw === '#' && Array.isArray(node) ? String(m.index % Math.max(1, node.length)) : raw;
    if (depth === keys.length - 1) {
      if (m.remove) delete container[key];
      else container[key] = m.value;
    }
    node = container[key];
  }
  return root;
}
