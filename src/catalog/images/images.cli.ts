import type { Command } from 'commander';
import { printJson, printLine, type CliIo, type JsonFlag } from '../../platform/cli/cli-io.js';
import { limitOption } from '../../platform/cli/int-option.js';
import type { ImagesService } from './images.service.js';

/** Runs `work` with an ImagesService and releases whatever it was built on afterwards. */
export type WithImages = <T>(work: (images: ImagesService) => Promise<T>) => Promise<T>;

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The printable report of `intake images:stats`. */
export async function imagesStats(images: ImagesService): Promise<string> {
  const stats = await images.stats();
  const { byStatus, jobs } = stats;
  return [
    `images: ${stats.total} (cached ${byStatus.cached}, pending ${byStatus.pending}, failed ${byStatus.failed})`,
    `cached bytes: ${formatBytes(stats.cachedBytes)} (${stats.cachedBytes})`,
    `download jobs: ready ${jobs.ready}, delayed ${jobs.delayed}, active ${jobs.active}, parked ${jobs.parked}`,
  ].join('\n');
}

/** The printable report of `intake images:failed`: the most recent failures with their reason. */
export async function imagesFailed(images: ImagesService, limit = 50): Promise<string> {
  const rows = await images.listFailed(limit);
  if (rows.length === 0) return 'no failed images';
  return rows.map((r) => `${r.url}\n  attempts ${r.attempts}: ${r.last_error ?? 'unknown error'}`).join('\n');
}

/** The printable report of `intake images:retry-failed`. */
export async function imagesRetryFailed(images: ImagesService): Promise<string> {
  const result = await images.retryFailed();
  return `re-queued ${result.images} failed image(s); moved ${result.parkedJobs} parked download job(s) back to the queue`;
}

/** Adds `images:stats`, `images:failed` and `images:retry-failed` to the CLI. */
export function registerImagesCommands(program: Command, withImages: WithImages, io: CliIo): void {
  program
    .command('images:stats')
    .description('image cache: images by status, cached bytes, download jobs by state')
    .option('--json', 'print JSON on stdout instead of text')
    .action(async (options: JsonFlag) => {
      if (options.json) printJson(io, await withImages((images) => images.stats()));
      else printLine(io, await withImages(imagesStats));
    });
  program
    .command('images:failed')
    .description('list failed image downloads with their last error, the most recent first')
    .addOption(limitOption(50))
    .option('--json', 'print JSON on stdout instead of text')
    .action(async (options: JsonFlag & { limit: number }) => {
      if (!options.json) return printLine(io, await withImages((images) => imagesFailed(images, options.limit)));
      const rows = await withImages((images) => images.listFailed(options.limit));
      printJson(io, rows.map((row) => ({ url: row.url, attempts: row.attempts, lastError: row.last_error, failedAt: new Date(row.updated_at).toISOString() })));
    });
  program
    .command('images:retry-failed')
    .description('re-drive failed image downloads, including parked download jobs')
    .action(async () => printLine(io, await withImages(imagesRetryFailed)));
}
