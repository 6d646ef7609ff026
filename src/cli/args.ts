/**
 * Shared argument handling for the CLI commands: flag parsing with clear one-line errors, and the
 * circuit-selection flags (`--qubits --layers --template --seed --angles`) that several commands share.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { Circuit } from '../circuit/ir.ts';
import { getTemplate, type TemplateDef } from '../circuit/templates/index.ts';
import { describe, FileError, InputError } from '../errors.ts';
import { READ_LIMITS, readTextBounded } from '../io/read.ts';
import { FACTOR_FORMS, type FactorForm } from '../peft/factor.ts';
import { type WidthFactor, widthFactor } from '../peft/width-factor.ts';
import { readQasmFile } from '../qasm/file.ts';
import type { ParsedQasm } from '../qasm/lower.ts';
import { uniformAngles } from '../util/random.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parse flags strictly; unknown flags, missing values and stray positionals become `InputError`s. */
export function parseFlags<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new InputError(`${msg} (see 'qpeft ${command} --help')`);
  }
}

/** An integer flag within [min, max]; `undefined` gives `fallback` (or an error when there is none). */
export function intFlag(
  name: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) {
    if (fallback === undefined) throw new InputError(`missing required flag --${name}`);
    return fallback;
  }
  const s = String(value).trim();
  const n = /^[+-]?\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InputError(
      `--${name} must be an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? '∞' : max}, got ${describe(s)}`,
    );
  }
  return n;
}

/** The flags that pick a template circuit and its angles. */
export const circuitFlags = {
  qubits: { type: 'string' },
  width: { type: 'string' },
  form: { type: 'string', default: 'auto' },
  layers: { type: 'string' },
  template: { type: 'string', default: 'simplified-two-design' },
  seed: { type: 'string' },
  angles: { type: 'string' },
} as const satisfies Options;

export interface CircuitChoice {
  template: TemplateDef;
  qubits: number;
  layers: number;
  circuit: Circuit;
  angles: Float64Array;
  /** Where the angles came from, for humans: `seed 3` or the file name. */
  source: string;
  /** With `--width D`: the whole D-wide factor, whose one circuit `circuit` is (any D ≥ 2). */
  factor?: WidthFactor;
}

/** Read a JSON array of finite numbers with `count` entries from a file. */
export function readAnglesFile(path: string, count: number): Float64Array {
  let text: string;
  try {
    text = readTextBounded(path, READ_LIMITS.json, 'angles file');
  } catch (e) {
    if (e instanceof FileError) throw new FileError(`--angles: ${e.message}`);
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`--angles: ${describe(path)} is not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(data))
    throw new InputError(
      `--angles: expected a JSON array of numbers in ${describe(path)}, got ${describe(data)}`,
    );
  if (data.length !== count) {
    throw new InputError(
      `--angles: the circuit needs ${count} angles (template order), ${describe(path)} has ${data.length}`,
    );
  }
  const bad = data.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0)
    throw new InputError(
      `--angles: entry ${bad} of ${describe(path)} is not a finite number: ${describe(data[bad])}`,
    );
  return Float64Array.from(data as number[]);
}

/** Resolve the circuit-selection flags: template, shape, and angles from `--seed` (default 0) or `--angles`. */
export function chooseCircuit(values: Record<string, unknown>): CircuitChoice {
  const template = getTemplate(String(values.template));
  if (values.width !== undefined && values.qubits !== undefined) {
    throw new InputError('give either --qubits N (a 2^N-wide circuit) or --width D (any width), not both');
  }
  const layers = intFlag('layers', values.layers, undefined, 0, 10_000);
  let factor: WidthFactor | undefined;
  if (values.width !== undefined) {
    const form = String(values.form ?? 'auto') as FactorForm;
    if (!FACTOR_FORMS.includes(form))
      throw new InputError(`--form must be one of ${FACTOR_FORMS.join(', ')}, got ${describe(form)}`);
    const width = intFlag('width', values.width, undefined, 2, 2 ** 30);
    factor = widthFactor(width, layers, { template: template.name, form });
  }
  const qubits = factor ? factor.circuit.qubits : intFlag('qubits', values.qubits, undefined, 1, 30);
  const circuit = factor ? factor.circuit : template.build(qubits, layers);
  if (values.seed !== undefined && values.angles !== undefined) {
    throw new InputError('give either --seed or --angles, not both');
  }
  if (values.angles !== undefined) {
    const path = String(values.angles);
    return {
      template,
      qubits,
      layers,
      circuit,
      angles: readAnglesFile(path, circuit.params.length),
      source: path,
      ...(factor ? { factor } : {}),
    };
  }
  const seed = intFlag('seed', values.seed, 0, 0, 2 ** 32 - 1);
  return {
    template,
    qubits,
    layers,
    circuit,
    angles: uniformAngles(circuit.params.length, seed),
    source: `seed ${seed}`,
    ...(factor ? { factor } : {}),
  };
}

/** An OpenQASM file read for a command, with angles for its `input` parameters. */
export interface QasmChoice {
  file: string;
  parsed: ParsedQasm;
  circuit: Circuit;
  /** Values of `circuit.params` (empty when the program has no inputs). */
  angles: Float64Array;
  /** Where the angles came from: `seed 3`, the angles file, or `no inputs`. */
  source: string;
}

/**
 * Resolve `--qasm FILE` with `--seed` / `--angles` for its inputs. A program with inputs needs one of them
 * (the same seed gives the same angles as for a template with as many parameters).
 */
export function chooseQasmCircuit(file: string, values: Record<string, unknown>): QasmChoice {
  const parsed = readQasmFile(file);
  const circuit = parsed.circuit;
  if (values.seed !== undefined && values.angles !== undefined)
    throw new InputError('give either --seed or --angles, not both');
  const n = circuit.params.length;
  if (n === 0) {
    if (values.seed !== undefined || values.angles !== undefined) {
      throw new InputError(`${describe(file)} has no input parameters: --seed/--angles have nothing to bind`);
    }
    return { file, parsed, circuit, angles: new Float64Array(0), source: 'no inputs' };
  }
  if (values.angles !== undefined) {
    const path = String(values.angles);
    return { file, parsed, circuit, angles: readAnglesFile(path, n), source: path };
  }
  if (values.seed === undefined) {
    throw new InputError(
      `${describe(file)} has ${n} unbound input(s) (${circuit.params.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}): give --seed S or --angles FILE`,
    );
  }
  const seed = intFlag('seed', values.seed, 0, 0, 2 ** 32 - 1);
  return { file, parsed, circuit, angles: uniformAngles(n, seed), source: `seed ${seed}` };
}
