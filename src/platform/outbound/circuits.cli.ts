import { Argument, Option, type Command } from 'commander';
import { outputWidth, printJson, printLine, type CliIo, type JsonFlag } from '../cli/cli-io.js';
import { limitOption } from '../cli/int-option.js';
import { formatTable } from '../cli/table.js';
import { CIRCUIT_COMMANDS, type CircuitCommand, type CircuitsService, type CircuitView } from './circuits.service.js';

/** Runs `work` with the circuits and releases whatever they were built on afterwards. */
export type WithCircuits = <T>(work: (circuits: CircuitsService) => Promise<T>) => Promise<T>;

const jsonOption = () => new Option('--json', 'print JSON on stdout instead of a table');

/** Adds `circuits:list` and `circuits:force` to the CLI. */
export function registerCircuitsCommands(program: Command, withCircuits: WithCircuits, io: CliIo): void {
  program
    .command('circuits:list')
    .description('circuits of the outbound destinations that have opened, been paused or forced: open, half-open and forced first')
    .addOption(limitOption(50))
    .addOption(jsonOption())
    .action(async (flags: JsonFlag & { limit: number }) => {
      const { circuits, total } = await withCircuits((service) => service.list({ page: 1, perPage: flags.limit }));
      if (flags.json) return printJson(io, circuits);
      if (circuits.length === 0) return printLine(io, 'no circuit has opened, been paused or forced: every destination is closed');
      printLine(io, circuitsTable(circuits, outputWidth(io.stdout)));
      if (total > circuits.length) printLine(io, `(${circuits.length} of ${total} destinations; --limit shows more)`);
    });

  program
    .command('circuits:force')
    .description('force a destination\'s circuit open (hold its jobs) or closed (send whatever fails), or give it back to its breaker (auto); every worker follows within OUTBOUND_STATE_REFRESH_MS')
    .argument('<destination>', 'third-party, webhook:<endpoint id> or image-host:<host>')
    .addArgument(new Argument('<state>', 'open, closed or auto').choices(CIRCUIT_COMMANDS))
    .addOption(jsonOption())
    .action(async (destination: string, state: CircuitCommand, flags: JsonFlag) => {
      const circuit = await withCircuits((service) => service.force(destination, state));
      if (flags.json) return printJson(io, circuit);
      printLine(io, state === 'auto' ? `${destination}: given back to its breaker, now ${stateText(circuit)}` : `${destination}: forced ${state}`);
    });
}

function iso(at: number | null): string {
  return at === null ? '' : new Date(at).toISOString();
}

function stateText(circuit: CircuitView): string {
  const state = circuit.state.replace('_', '-');
  return circuit.forced ? `${state} (forced)` : state;
}

function circuitsTable(circuits: CircuitView[], width: number): string {
  const rows = circuits.map((c) => ({
    destination: c.destination,
    state: stateText(c),
    until: iso(c.state === 'closed' ? null : c.open_until),
    paused: iso(c.paused_until),
    failure: c.last_failure ?? '',
    at: iso(c.last_failure_at),
  }));
  return formatTable(
    rows,
    [
      { key: 'destination' },
      { key: 'state' },
      { key: 'until', header: 'probe after', dropOrder: 2 },
      { key: 'paused', header: 'paused until', dropOrder: 3 },
      { key: 'failure', header: 'last failure', flexible: true, minWidth: 12 },
      { key: 'at', header: 'failed at', dropOrder: 1 },
    ],
    width,
  );
}
