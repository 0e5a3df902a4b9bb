import { Option, type Command } from 'commander';
import { CliError } from '../platform/cli/cli-error.js';
import { outputWidth, printJson, printLine, type CliIo, type JsonFlag } from '../platform/cli/cli-io.js';
import { confirmOrRefuse } from '../platform/cli/confirm.js';
import { intOption, limitOption } from '../platform/cli/int-option.js';
import { formatTable } from '../platform/cli/table.js';
import { NotFoundError } from '../platform/errors/domain-errors.js';
import { RETRY_ALL_CONFIRM_ABOVE } from '../platform/queue/jobs.cli.js';
import { ENDPOINT_STATES, type EndpointState, type OperatorEndpointView, type WebhooksOperatorService } from './webhooks-operator.service.js';

/** Runs `work` with the operators' webhooks service and releases whatever it was built on afterwards. */
export type WithWebhooks = <T>(work: (webhooks: WebhooksOperatorService) => Promise<T>) => Promise<T>;

const idOption = (flags: string, description: string) => new Option(flags, description).argParser(intOption(1, Number.MAX_SAFE_INTEGER));
const jsonOption = () => new Option('--json', 'print JSON on stdout instead of a table');

/** Adds `webhooks:list` and `webhooks:retry-failed` to the CLI. */
export function registerWebhooksCommands(program: Command, withWebhooks: WithWebhooks, io: CliIo): void {
  program
    .command('webhooks:list')
    .description('webhook endpoints of every user: disabled first, then failing (oldest failure first), then healthy')
    .addOption(idOption('--user <id>', 'only the endpoints of this user id'))
    .addOption(new Option('--state <state>', 'only endpoints in this state (enabled: enabled and not failing)').choices(ENDPOINT_STATES))
    .addOption(limitOption(50))
    .addOption(jsonOption())
    .action(async (flags: JsonFlag & { user?: number; state?: EndpointState; limit: number }) => {
      const { endpoints, total } = await withWebhooks((webhooks) => webhooks.endpoints({ userId: flags.user, state: flags.state }, { page: 1, perPage: flags.limit }));
      if (flags.json) return printJson(io, endpoints.map(jsonView));
      if (endpoints.length === 0) return printLine(io, 'no webhook endpoints');
      printLine(io, endpointsTable(endpoints, outputWidth(io.stdout)));
      if (total > endpoints.length) printLine(io, `(${endpoints.length} of ${total} endpoints; --limit shows more)`);
    });

  program
    .command('webhooks:retry-failed')
    .description(`send failed webhook deliveries again, under their webhook-id (asks first above ${RETRY_ALL_CONFIRM_ABOVE}); disabled endpoints are left alone`)
    .addOption(idOption('--endpoint <id>', 'only the failed deliveries of this endpoint'))
    .option('-y, --yes', 'do it without asking (required above the threshold when stdin is not a terminal)')
    .option('--dry-run', 'show what would be sent again, and change nothing')
    .addOption(jsonOption())
    .action(async (flags: JsonFlag & { endpoint?: number; yes?: boolean; dryRun?: boolean }) => {
      await withWebhooks(async (webhooks) => {
        const failed = await webhooks.failedDeliveries(flags.endpoint).catch((error: unknown) => {
          throw error instanceof NotFoundError ? new CliError(`no webhook endpoint ${flags.endpoint}`) : error;
        });
        const scope = flags.endpoint === undefined ? `${failed.endpoints.length} endpoint(s)` : `endpoint ${flags.endpoint}`;
        const skipped = failed.ofDisabled > 0 ? `; left ${failed.ofDisabled} failed delivery(ies) of disabled endpoints alone` : '';
        if (flags.dryRun) {
          if (flags.json) return printJson(io, { dryRun: true, count: failed.count, endpoints: failed.endpoints, skippedOfDisabled: failed.ofDisabled });
          return printLine(io, `dry run: would send ${failed.count} failed delivery(ies) of ${scope} again${skipped}; nothing changed`);
        }
        if (failed.count > RETRY_ALL_CONFIRM_ABOVE) await confirmOrRefuse(io, { action: `send ${failed.count} failed webhook delivery(ies) of ${scope} again`, yes: flags.yes });
        const queued = failed.count > 0 ? await webhooks.retryFailed(flags.endpoint) : 0;
        if (flags.json) return printJson(io, { count: queued, skippedOfDisabled: failed.ofDisabled });
        printLine(io, `queued ${queued} failed delivery(ies) again${skipped}`);
      });
    });
}

function stateText(endpoint: OperatorEndpointView): string {
  if (endpoint.state === 'disabled') return `disabled: ${endpoint.disabled_reason ?? 'by its owner'}`;
  if (endpoint.state === 'failing') return `failing since ${iso(endpoint.failing_since)}`;
  return 'enabled';
}

function iso(at: number | null): string {
  return at === null ? '' : new Date(at).toISOString();
}

function endpointsTable(endpoints: OperatorEndpointView[], width: number): string {
  const rows = endpoints.map((e) => ({
    id: e.id,
    user: e.user.email,
    url: e.url,
    events: e.events.join(','),
    state: stateText(e),
    last_success: iso(e.last_success_at),
    pending: e.deliveries.pending,
    failed: e.deliveries.failed,
  }));
  return formatTable(
    rows,
    [
      { key: 'id', align: 'right' },
      { key: 'user', flexible: true, minWidth: 12 },
      { key: 'url', flexible: true, minWidth: 16 },
      { key: 'events', flexible: true, dropOrder: 2 },
      { key: 'state', flexible: true, minWidth: 12 },
      { key: 'last_success', header: 'last success', dropOrder: 1 },
      { key: 'pending', align: 'right' },
      { key: 'failed', align: 'right' },
    ],
    width,
  );
}

function jsonView(e: OperatorEndpointView) {
  const at = (value: number | null) => (value === null ? null : new Date(value).toISOString());
  return {
    id: e.id,
    user: e.user,
    url: e.url,
    description: e.description,
    events: e.events,
    state: e.state,
    disabledReason: e.disabled_reason,
    disabledAt: at(e.disabled_at),
    failingSince: at(e.failing_since),
    lastSuccessAt: at(e.last_success_at),
    createdAt: at(e.created_at),
    deliveries: e.deliveries,
  };
}
