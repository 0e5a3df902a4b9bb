export type Dialect = 'sqlite' | 'postgres' | 'mysql';

/** The engine a `DATABASE_URL` names, or undefined for one intake does not support. */
export function dialectOf(url: string): Dialect | undefined {
  if (/^sqlite:./.test(url)) return 'sqlite';
  if (/^postgres(ql)?:\/\/./.test(url)) return 'postgres';
  if (/^(mysql|mariadb):\/\/./.test(url)) return 'mysql';
  return undefined;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
