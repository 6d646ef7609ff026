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
  constructor(message: string) {
    super('E_INPUT', message);
  }
}

/** Human-readable description of a value for error messages (`"abc"`, `NaN`, `array(3)`, …). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
