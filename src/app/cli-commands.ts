import { Command } from 'commander';
import { registerAuthCommands } from '../auth/auth.cli.js';
import { registerFeedCommands } from '../catalog/feed/feed.cli.js';
import { registerImagesCommands } from '../catalog/images/images.cli.js';
import { loadConfigFromEnvironment } from '../config.js';
import { limitHeapGrowth } from '../platform/heap.js';
import { registerJobsCommands } from '../platform/queue/jobs.cli.js';
import { createLogger } from '../platform/telemetry/logger.js';
import { registerAppCommands } from './app.cli.js';
import { createContainer, QUEUE_NAMES, type Container } from './container.js';
import { VERSION } from './version.js';

/** Builds the app for one command and closes it afterwards. */
async function withContainer<T>(work: (c: Container) => Promise<T>): Promise<T> {
  const config = loadConfigFromEnvironment();
  limitHeapGrowth(config.heapGrowthPercent);
  const container = await createContainer(config, { logger: createLogger({ level: config.cliLogLevel, role: 'cli', pretty: false }) });
  try {
    return await work(container);
  } finally {
    await container.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
}

const program = new Command('intake').version(VERSION).description('intake: orders and catalog intake pipelines');

// Each module adds its own commands; `intake --help` lists them in this order.
registerAppCommands(program, print);
registerAuthCommands(program, (work) => withContainer((c) => work(c.auth)), print);
registerJobsCommands(program, QUEUE_NAMES, (work) => withContainer((c) => work(c.queue)), print);
registerFeedCommands(program, (work) => withContainer((c) => work(c.feed)), print);
registerImagesCommands(program, (work) => withContainer((c) => work(c.images)), print);

/** Runs the command that `argv` names. */
export async function runCli(argv: string[]): Promise<void> {
  await program.parseAsync(argv).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
