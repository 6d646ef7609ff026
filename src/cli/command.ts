/** The shape of a CLI command. Commands only parse arguments, call the library and print. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Full help text (usage line and flags). */
  readonly help: string;
  /** Returns the exit code; throws `QpeftError` for bad input (main prints it as one line, exit 2). */
  run(argv: string[], io: Io): Promise<number> | number;
}

/** The real process streams. */
export const processIo: Io = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};
