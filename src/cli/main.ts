/**
 * `qpeft <command> [flags]`: dispatch to one command. Bad input (any `QpeftError`) prints one line on
 * stderr and exits 2; anything else is a bug and keeps its stack trace (exit 1).
 */
import { QpeftError } from '../errors.ts';
import { type Io, processIo } from './command.ts';
import { COMMANDS } from './commands/index.ts';

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: qpeft <command> [flags]   (qpeft <command> --help for its flags)',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`qpeft: unknown command "${name}"; expected one of ${COMMANDS.map((c) => c.name).join(', ')}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof QpeftError) {
      io.err(`qpeft ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
