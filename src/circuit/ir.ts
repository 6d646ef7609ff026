/**
 * The circuit IR: plain readonly data. A circuit is a qubit count, an ordered gate list and the ordered list
 * of its free parameter names (the order of the trainable vector θ). Builders are pure functions.
 */
import { CircuitError, describe, ParameterError } from '../errors.ts';
import {
  type FixedName,
  GATES,
  type GateName,
  isGateName,
  type RotationName,
  type TwoQubitName,
} from './gates.ts';

/**
 * A symbolic angle `scale · θ[param] + offset`. Affine in one parameter, which is what templates and QASM
 * `input` angles produce, and what keeps exact gradients (chain rule factor `scale`) and the parameter-shift
 * rule (shift the gate angle) simple.
 */
export interface ParamAngle {
  readonly param: string;
  readonly scale: number;
  readonly offset: number;
}

/** A gate angle: a constant in radians, or a symbolic parameter. */
export type Angle = number | ParamAngle;

export interface RotationGate {
  readonly name: RotationName;
  readonly wires: readonly [number];
  readonly angle: Angle;
}
export interface FixedGate {
  readonly name: FixedName;
  readonly wires: readonly [number];
}
export interface TwoQubitGate {
  readonly name: TwoQubitName;
  /** `cx`: `[control, target]`; `cz` and `swap` are symmetric. */
  readonly wires: readonly [number, number];
}
/** One gate of the IR, discriminated by `name`. */
export type Gate = RotationGate | FixedGate | TwoQubitGate;

/** A circuit: `params` is the order of the parameter vector θ that simulators and adapters take. */
export interface Circuit {
  readonly qubits: number;
  readonly gates: readonly Gate[];
  readonly params: readonly string[];
  /** Global phase in radians (from QASM lowering); it does not change a real simulation. */
  readonly globalPhase?: number;
}

/** The largest qubit count any path accepts; memory limits usually bind earlier (see `sim/capacity`). */
export const MAX_QUBITS = 30;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A symbolic angle `scale · θ[name] + offset`. */
export function param(name: string, scale = 1, offset = 0): ParamAngle {
  return Object.freeze({ param: name, scale, offset });
}

export function isParamAngle(angle: Angle): angle is ParamAngle {
  return typeof angle !== 'number';
}

export function isRotation(gate: Gate): gate is RotationGate {
  return GATES[gate.name].rotation;
}

const g1 = (name: RotationName, wire: number, angle: Angle): RotationGate =>
  Object.freeze({ name, wires: Object.freeze([wire]) as readonly [number], angle });
const f1 = (name: FixedName, wire: number): FixedGate =>
  Object.freeze({ name, wires: Object.freeze([wire]) as readonly [number] });
const t2 = (name: TwoQubitName, a: number, b: number): TwoQubitGate =>
  Object.freeze({ name, wires: Object.freeze([a, b]) as readonly [number, number] });

/** RY(t) = [[cos t/2, −sin t/2], [sin t/2, cos t/2]]. */
export const ry = (wire: number, angle: Angle): RotationGate => g1('ry', wire, angle);
/** RX(t) (complex). */
export const rx = (wire: number, angle: Angle): RotationGate => g1('rx', wire, angle);
/** RZ(t) = diag(e^{−it/2}, e^{it/2}) (complex). */
export const rz = (wire: number, angle: Angle): RotationGate => g1('rz', wire, angle);
export const x = (wire: number): FixedGate => f1('x', wire);
export const z = (wire: number): FixedGate => f1('z', wire);
export const h = (wire: number): FixedGate => f1('h', wire);
/** CZ = diag(1, 1, 1, −1). */
export const cz = (a: number, b: number): TwoQubitGate => t2('cz', a, b);
/** CNOT with `control`, `target`. */
export const cx = (control: number, target: number): TwoQubitGate => t2('cx', control, target);
export const swap = (a: number, b: number): TwoQubitGate => t2('swap', a, b);

/** Parameter names in order of first use. */
export function usedParams(gates: readonly Gate[]): string[] {
  const seen = new Set<string>();
  for (const g of gates) if (isRotation(g) && isParamAngle(g.angle)) seen.add(g.angle.param);
  return [...seen];
}

/**
 * Build and validate a circuit. `params` fixes the order of θ; when omitted it is the order of first use.
 * Throws `CircuitError` / `ParameterError` on any inconsistency.
 */
export function makeCircuit(spec: {
  qubits: number;
  gates: readonly Gate[];
  params?: readonly string[];
  globalPhase?: number;
}): Circuit {
  const c: Circuit = Object.freeze({
    qubits: spec.qubits,
    gates: Object.freeze([...spec.gates]),
    params: Object.freeze([...(spec.params ?? usedParams(spec.gates))]),
    ...(spec.globalPhase !== undefined ? { globalPhase: spec.globalPhase } : {}),
  });
  validateCircuit(c);
  return c;
}

/** Check every structural rule of the IR; throws a typed error naming the gate index and the problem. */
export function validateCircuit(c: Circuit): void {
  if (!Number.isInteger(c.qubits) || c.qubits < 1 || c.qubits > MAX_QUBITS) {
    throw new CircuitError(`qubits must be an integer in 1..${MAX_QUBITS}, got ${describe(c.qubits)}`);
  }
  if (c.globalPhase !== undefined && !Number.isFinite(c.globalPhase)) {
    throw new CircuitError(`globalPhase must be a finite number, got ${describe(c.globalPhase)}`);
  }
  const names = new Set<string>();
  for (const p of c.params) {
    if (typeof p !== 'string' || !IDENT.test(p)) {
      throw new ParameterError(
        `parameter names must be identifiers ([A-Za-z_][A-Za-z0-9_]*), got ${describe(p)}`,
      );
    }
    if (names.has(p)) throw new ParameterError(`parameter ${describe(p)} is declared twice`);
    names.add(p);
  }
  c.gates.forEach((g, i) => {
    const where = `gate ${i} (${describe((g as { name?: unknown }).name)})`;
    if (!isGateName(String(g.name))) {
      throw new CircuitError(`${where}: unknown gate; expected one of ${Object.keys(GATES).join(', ')}`);
    }
    const info = GATES[g.name as GateName];
    if (!Array.isArray(g.wires) || g.wires.length !== info.arity) {
      throw new CircuitError(`${where}: expected ${info.arity} wire(s), got ${describe(g.wires)}`);
    }
    for (const w of g.wires) {
      if (!Number.isInteger(w) || w < 0 || w >= c.qubits) {
        throw new CircuitError(`${where}: wire ${describe(w)} is out of range 0..${c.qubits - 1}`);
      }
    }
    if (info.arity === 2 && g.wires[0] === g.wires[1]) {
      throw new CircuitError(`${where}: a two-qubit gate needs two different wires, got ${g.wires[0]} twice`);
    }
    if (info.rotation) {
      const a = (g as RotationGate).angle;
      if (typeof a === 'number') {
        if (!Number.isFinite(a)) throw new CircuitError(`${where}: angle must be finite, got ${describe(a)}`);
      } else if (a === null || typeof a !== 'object') {
        throw new CircuitError(`${where}: angle must be a number or a parameter, got ${describe(a)}`);
      } else {
        if (!names.has(a.param)) {
          throw new ParameterError(
            `${where}: unknown parameter ${describe(a.param)}; declared: ${c.params.length ? c.params.join(', ') : '(none)'}`,
          );
        }
        if (!Number.isFinite(a.scale) || !Number.isFinite(a.offset)) {
          throw new CircuitError(
            `${where}: parameter scale and offset must be finite, got ${a.scale}, ${a.offset}`,
          );
        }
      }
    } else if ('angle' in g) {
      throw new CircuitError(`${where}: this gate takes no angle`);
    }
  });
}

/** Parameter values: a vector in `circuit.params` order, or a name → value map. */
export type Bindings = ArrayLike<number> | Readonly<Record<string, number>>;

function isVector(values: Bindings): values is ArrayLike<number> {
  return ArrayBuffer.isView(values) || Array.isArray(values);
}

/**
 * Resolve bindings to a vector in `circuit.params` order. A vector must have exactly one value per
 * parameter; a map must name every parameter (unless `partial`) and nothing else. Values must be finite.
 */
export function paramVector(c: Circuit, values: Bindings): Float64Array {
  const out = new Float64Array(c.params.length);
  if (isVector(values)) {
    if (values.length !== c.params.length) {
      throw new ParameterError(
        `expected ${c.params.length} parameter values (in order ${preview(c.params)}), got ${values.length}`,
      );
    }
    for (let i = 0; i < out.length; i++) out[i] = values[i]!;
  } else {
    const known = new Set(c.params);
    for (const k of Object.keys(values)) {
      if (!known.has(k))
        throw new ParameterError(`unknown parameter ${describe(k)}; the circuit has ${preview(c.params)}`);
    }
    c.params.forEach((p, i) => {
      const v = (values as Record<string, number>)[p];
      if (v === undefined) throw new ParameterError(`missing binding for parameter ${describe(p)}`);
      out[i] = v;
    });
  }
  out.forEach((v, i) => {
    if (!Number.isFinite(v))
      throw new ParameterError(`parameter ${describe(c.params[i])} must be finite, got ${describe(v)}`);
  });
  return out;
}

function preview(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, …, ${names.at(-1)}`;
}

/**
 * Substitute values for parameters. With a vector or a full map the result has no parameters left; with
 * `partial: true` a map may bind a subset and the rest stay symbolic (their order is kept).
 */
export function bindParameters(c: Circuit, values: Bindings, options: { partial?: boolean } = {}): Circuit {
  let map: Map<string, number>;
  if (options.partial && !isVector(values)) {
    const known = new Set(c.params);
    map = new Map();
    for (const [k, v] of Object.entries(values)) {
      if (!known.has(k))
        throw new ParameterError(`unknown parameter ${describe(k)}; the circuit has ${preview(c.params)}`);
      if (!Number.isFinite(v))
        throw new ParameterError(`parameter ${describe(k)} must be finite, got ${describe(v)}`);
      map.set(k, v);
    }
  } else {
    const vec = paramVector(c, values);
    map = new Map(c.params.map((p, i) => [p, vec[i]!]));
  }
  const gates = c.gates.map((g): Gate => {
    if (!isRotation(g) || !isParamAngle(g.angle)) return g;
    const v = map.get(g.angle.param);
    return v === undefined ? g : g1(g.name, g.wires[0], g.angle.scale * v + g.angle.offset);
  });
  return makeCircuit({
    qubits: c.qubits,
    gates,
    params: c.params.filter((p) => !map.has(p)),
    ...(c.globalPhase !== undefined ? { globalPhase: c.globalPhase } : {}),
  });
}

/** The numeric angle of a gate for a parameter vector in `circuit.params` order (`index` maps names). */
export function angleValue(
  angle: Angle,
  theta: ArrayLike<number>,
  index: ReadonlyMap<string, number>,
): number {
  if (typeof angle === 'number') return angle;
  return angle.scale * theta[index.get(angle.param)!]! + angle.offset;
}

/** Gate counts by name, plus totals; `depth` is the number of layers when gates are packed greedily. */
export interface GateStats {
  readonly counts: Readonly<Partial<Record<GateName, number>>>;
  readonly total: number;
  readonly twoQubit: number;
  readonly depth: number;
}

/** Count gates and compute the circuit depth (ASAP layering over wires). */
export function gateStats(c: Circuit): GateStats {
  const counts: Partial<Record<GateName, number>> = {};
  const level = new Array<number>(c.qubits).fill(0);
  let twoQubit = 0;
  for (const g of c.gates) {
    counts[g.name] = (counts[g.name] ?? 0) + 1;
    if (g.wires.length === 2) twoQubit++;
    const d = Math.max(...g.wires.map((w) => level[w]!)) + 1;
    for (const w of g.wires) level[w] = d;
  }
  return { counts, total: c.gates.length, twoQubit, depth: Math.max(0, ...level) };
}

/** The gates whose matrices are complex, with their indices (empty for a real circuit). */
export function complexGates(c: Circuit): { index: number; name: GateName }[] {
  const out: { index: number; name: GateName }[] = [];
  c.gates.forEach((g, index) => {
    if (!GATES[g.name].real) out.push({ index, name: g.name });
  });
  return out;
}
