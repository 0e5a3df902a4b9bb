import type { Compilable, CompiledQuery, DialectAdapter, Kysely, QueryResult } from 'kysely';
import type { Executor } from './database.js';

const MARK = '\u0000kysely-param\u0000';

/**
 * A named placeholder for a prepared query. The value only marks a position while the query is
 * compiled; `execute` puts the real value there.
 */
export function param<T>(name: string): T {
  return `${MARK}${name}` as unknown as T;
}

interface Template {
  compiled: CompiledQuery;
  /** For each compiled parameter: the name to read from `params`, or a constant. */
  slots: Array<{ name: string } | { value: unknown }>;
}

/**
 * A query built with Kysely once per dialect and then executed with new parameters, so that hot
 * paths pay for building and compiling SQL once instead of on every call. Use it only where the
 * query's shape does not depend on the parameters.
 */
export class PreparedQuery<P extends Record<string, unknown>, R> {
  private readonly templates = new WeakMap<DialectAdapter, Template>();

  constructor(private readonly build: (db: Kysely<any>) => Compilable<R>) {}

  async execute(executor: Executor, params: P): Promise<QueryResult<R>> {
    const template = this.templateFor(executor);
    const parameters = template.slots.map((slot) => ('name' in slot ? params[slot.name] : slot.value));
    return executor.executeQuery<R>({ ...template.compiled, parameters } as CompiledQuery<R>);
  }

  async rows(executor: Executor, params: P): Promise<R[]> {
    return (await this.execute(executor, params)).rows;
  }

  async first(executor: Executor, params: P): Promise<R | undefined> {
    return (await this.execute(executor, params)).rows[0];
  }

  private templateFor(executor: Executor): Template {
    const adapter = executor.getExecutor().adapter;
    let template = this.templates.get(adapter);
    if (!template) {
      const compiled = this.build(executor).compile();
      const slots = compiled.parameters.map((value) =>
        typeof value === 'string' && value.startsWith(MARK) ? { name: value.slice(MARK.length) } : { value },
      );
      template = { compiled, slots };
      this.templates.set(adapter, template);
    }
    return template;
  }
}

export function prepareQuery<P extends Record<string, unknown>, R>(build: (db: Kysely<any>) => Compilable<R>): PreparedQuery<P, R> {
  return new PreparedQuery<P, R>(build);
}
