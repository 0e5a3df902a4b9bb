import { Command } from 'commander';
import { pino } from 'pino';
import { registerAuthCommands } from '../auth/auth.cli.js';
import { registerFeedCommands } from '../catalog/feed/feed.cli.js';
import { registerImagesCommands } from '../catalog/images/images.cli.js';
import { loadConfigFromEnvironment } from '../config.js';
import { priorityName } from '../orders/priority.js';
import { endQuietlyWhenStdoutCloses, processIo, type CliIo } from '../platform/cli/cli-io.js';
import { addVerboseOption, isVerbose, runProgram } from '../platform/cli/run-program.js';
import { limitHeapGrowth } from '../platform/heap.js';
import { registerJobShowCommand } from '../platform/queue/job-attempts.cli.js';
import { JobAttemptsService } from '../platform/queue/job-attempts.service.js';
import { registerJobsCommands } from '../platform/queue/jobs.cli.js';
import { registerQueueControlCommands } from '../platform/queue/queue-controls.cli.js';
import { registerCircuitsCommands } from '../platform/outbound/circuits.cli.js';
import { CircuitsService } from '../platform/outbound/circuits.service.js';
import { createLogger } from '../platform/telemetry/logger.js';
import { WebhooksOperatorService } from '../webhooks/webhooks-operator.service.js';
import { registerWebhooksCommands } from '../webhooks/webhooks.cli.js';
import { registerAppCommands } from './app.cli.js';
import { createContainer, QUEUE_NAMES, type Container } from './container.js';
import { VERSION } from './version.js';

/** The `intake` program: each module adds its own commands; `intake --help` lists them in this order. */
export function buildCli(io: CliIo = processIo): Command {
  const program = addVerboseOption(new Command('intake').version(VERSION).description('intake: orders and catalog intake pipelines'));
  // Before the commands are added: each copies it, and lists --verbose in its own help.
  program.configureHelp({ showGlobalOptions: true });

  /**
   * Builds the app for one command and closes it afterwards. A command reports its own outcome,
   * so the app's logs (which would repeat its failure, with a stack) are shown only with --verbose,
   * and on stderr, where they cannot mix with what the command prints.
   */
  async function withContainer<T>(work: (c: Container) => Promise<T>): Promise<T> {
    const config = loadConfigFromEnvironment();
    limitHeapGrowth(config.heapGrowthPercent);
    const level = isVerbose(program) ? config.cliLogLevel : 'silent';
    const logger = createLogger({ level, role: 'cli', destination: pino.destination({ fd: 2, sync: true }) });
    const container = await createContainer(config, { logger });
    try {
      return await work(container);
    } finally {
      await container.close();
    }
  }

  registerAppCommands(program, io);
  registerAuthCommands(program, (work) => withContainer((c) => work(c.auth)), io);
  registerJobsCommands(program, { queueNames: QUEUE_NAMES, priorityName }, (work) => withContainer((c) => work(c.queue, c.queuePauses)), io);
  registerJobShowCommand(program, { queueNames: QUEUE_NAMES, priorityName }, (work) => withContainer((c) => work(new JobAttemptsService({ database: c.database, queue: c.queue }))), io);
  registerQueueControlCommands(program, { queueNames: QUEUE_NAMES }, (work) => withContainer((c) => work({ pauses: c.queuePauses, workers: c.workerProcesses })), io);
  registerFeedCommands(program, (work) => withContainer((c) => work(c.feed)), io);
  registerImagesCommands(program, (work) => withContainer((c) => work(c.images)), io);
  registerCircuitsCommands(program, (work) => withContainer((c) => work(new CircuitsService({ database: c.database, clock: c.clock }))), io);
  registerWebhooksCommands(program, (work) => withContainer((c) => work(new WebhooksOperatorService({ database: c.database, events: c.webhookEvents, clock: c.clock }))), io);
  return program;
}

/** Runs the command that `argv` names; on failure, exits with its code once its error is printed. */
export async function runCli(argv: string[]): Promise<void> {
  endQuietlyWhenStdoutCloses();
  const code = await runProgram(buildCli(processIo), argv, processIo);
  if (code !== 0) process.exit(code);
}
