/**
 * Typed errors. Every message says what was expected and what was given, so a caller (or the CLI, which
 * prints `message` as one line) never needs a stack trace to act on it.
 */

/** Base class of every error qpeft throws on purpose. `code` is stable for programs to branch on. */
export class QpeftError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A circuit is malformed: a wire out of range, a two-qubit gate on one wire, a non-finite angle, … */
export class CircuitError extends QpeftError {
  constructor(message: string) {
    super('E_CIRCUIT', message);
  }
}

/** Parameter names or values do not match the circuit: unknown name, missing binding, wrong count. */
export class ParameterError extends QpeftError {
  constructor(message: string) {
    super('E_PARAMETER', message);
  }
}

/** A gate the requested path cannot apply (a complex gate in the real simulator or in an adapter). */
export class UnsupportedGateError extends QpeftError {
  constructor(message: string) {
    super('E_UNSUPPORTED_GATE', message);
  }
}

/** The request needs more memory (or a larger index range) than this process can hold. */
export class CapacityError extends QpeftError {
  constructor(message: string) {
    super('E_CAPACITY', message);
  }
}

/** A bad argument to a library function or a CLI flag (shape, range, type). */
export class InputError extends QpeftError {
  constructor(message: string, code = 'E_INPUT') {
    super(code, message);
  }
}

/**
 * A file cannot be read as asked: it is missing, not a regular file (a device, a FIFO, a directory), or
 * larger than the bound for what it should hold. An `InputError`, so callers that catch bad input catch it.
 */
export class FileError extends InputError {
  constructor(message: string, code = 'E_FILE') {
    super(message, code);
  }
}

/**
 * A path inside untrusted data (an adapter folder's config) does not stay inside its folder: absolute, a
 * `..` that climbs out, or a symbolic link that leads out.
 */
export class UnsafePathError extends FileError {
  constructor(message: string) {
    super(message, 'E_UNSAFE_PATH');
  }
}

/**
 * An output path cannot be written: a file where a directory is needed (or the reverse), no permission, a
 * read-only or pseudo file system, a full disk.
 */
export class OutputError extends QpeftError {
  constructor(message: string) {
    super('E_OUTPUT', message);
  }
}

/** An output folder is being written by another live process (its lock file names the owner). */
export class LockError extends QpeftError {
  /** The process id recorded in the lock. */
  readonly owner: number;
  constructor(message: string, owner: number) {
    super('E_LOCKED', message);
    this.owner = owner;
  }
}

/** Human-readable description of a value for error messages (`"abc"`, `NaN`, `array(3)`, …). */
export function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value))
    return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * An OpenQASM program could not be read: a syntax error, an unknown name, a size limit, an unsupported
 * construct. `line` and `column` (1-based) point at the offending token; the message says what was
 * expected and what was found.
 */
export class QasmParseError extends QpeftError {
  readonly line: number;
  readonly column: number;
  /** The message without the `line:column` prefix. */
  readonly detail: string;
  constructor(detail: string, line: number, column: number) {
    super('E_QASM_PARSE', `line ${line}, column ${column}: ${detail}`);
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

/** A data file exists but is malformed: a bad IDX magic number, a truncated file, a CSV row of the wrong width. */
export class DataError extends QpeftError {
  constructor(message: string) {
    super('E_DATA', message);
  }
}

/** A data set is not installed here; `install` is the command that installs it. */
export class DatasetNotFoundError extends QpeftError {
  readonly install: string;
  constructor(message: string, install: string) {
    super('E_DATASET_MISSING', `${message}; install it with: ${install}`);
    this.install = install;
  }
}

/** Training produced a non-finite loss (NaN or ±Inf); the message says where and what to try. */
export class TrainingDivergedError extends QpeftError {
  constructor(message: string) {
    super('E_DIVERGED', message);
  }
}

/**
 * An adapter cannot be built, saved, loaded or applied as asked: a saved adapter that does not match the
 * model (targets, shapes, method), a missing or corrupt adapter file, an operation the method does not
 * support (merging a non-linear bottleneck adapter, exporting BitFit as LoRA).
 */
export class AdapterError extends QpeftError {
  constructor(message: string) {
    super('E_ADAPTER', message);
  }
}

/**
 * Measurement counts (from a QPU, an SDK or `qpeft hardware simulate`) do not fit the measurement plan: a
 * plan circuit without counts, an id the plan lacks, a bit string of the wrong width, a negative or
 * non-integer count, zero shots. `circuit` names the plan circuit concerned (null when none applies).
 */
export class CountsError extends QpeftError {
  readonly circuit: string | null;
  constructor(message: string, circuit: string | null = null) {
    super('E_COUNTS', message);
    this.circuit = circuit;
  }
}
