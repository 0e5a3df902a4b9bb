import path from 'node:path';
import { loadConfigFromEnvironment } from '../../src/config.js';
import { installShutdown } from '../../src/app/role-runner.js';
import { startRole } from '../../src/app/roles.js';
import { startDevStack } from './dev-server.js';

/**
 * `npm run demo`: the whole catalog pipeline with no internet. A generated feed and a mock CDN
 * run on loopback; intake runs every role against them on its embedded defaults.
 */
async function main(): Promise<void> {
  const items = Number(process.env.DEMO_ITEMS ?? 2000);
  const stack = await startDevStack({ items, seed: 42, latencyMs: Number(process.env.DEMO_CDN_LATENCY_MS ?? 5) });
  process.env.DATA_DIR ??= path.resolve('data/demo');
  process.env.FEED_URL = stack.feed.url;
  process.env.IMAGE_ALLOW_PRIVATE_HOSTS = 'true';
  process.env.FEED_INGEST_ON_START = 'true';
  process.env.SIMULATOR_DELAY_MS ??= '200-1000';
  const config = loadConfigFromEnvironment();
  const running = await startRole({ ...config, role: 'all' });
  const api = running.url ?? config.publicUrl;
  const withData = `DATA_DIR=${shellQuote(config.dataDir)}`;
  process.stdout.write(
    [
      '',
      `intake demo: ${items} generated items from ${stack.feed.url}, thumbnails from ${stack.cdn.url}`,
      `data in ${config.dataDir}`,
      '',
      'Try, in another terminal in this directory:',
      `  curl -s '${api}/api/v1/pornstars?per_page=3&sort=-views' | head -c 1500`,
      `  curl -s '${api}/api/v1/pornstars?q=anna&has_tattoos=true'`,
      `  ${withData} npm run -s cli -- feed:runs`,
      `  ${withData} npm run -s cli -- images:stats`,
      `API docs: ${api}/docs`,
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  // As `npm start` does: the first Ctrl-C says what it waits for, a second gives the running jobs back.
  installShutdown(running, () => stack.close());
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/** `value` as one POSIX shell word. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
