/**
 * `qpeft <command> [flags]`: dispatch to one command. Bad input (any `QpeftError`) prints one line on
 * stderr and exits 2; anything else is a failure the user cannot fix by changing the input (a bug, a full
 * disk): one line with the error's own message, exit 1, and the stack trace only with `QPEFT_DEBUG=1`.
 */
import { QpeftError } from '../errors.ts';
import { releaseAllLocks } from '../io/output.ts';
import { type Command, type Io, processIo } from './command.ts';
import { COMMANDS } from './commands/index.ts';

function usage(commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: qpeft <command> [flags]   (qpeft <command> --help for its flags)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join('\n');
}

/** The error's name and message on one line, whatever was thrown. */
function oneLine(e: unknown): string {
  const text = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 500);
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(
  argv: string[],
  io: Io = processIo,
  commands: readonly Command[] = COMMANDS,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage(commands));
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`qpeft: unknown command "${name}"; expected one of ${commands.map((c) => c.name).join(', ')}`);
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
    if (process.env.QPEFT_DEBUG === '1' && e instanceof Error && e.stack) {
      io.err(`qpeft ${name}: ${e.stack}`);
    } else {
      io.err(`qpeft ${name}: internal error: ${oneLine(e)} (QPEFT_DEBUG=1 shows the stack trace)`);
    }
    return 1;
  } finally {
    releaseAllLocks();
  }
}
