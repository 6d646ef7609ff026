/**
 * A circuit compiled to flat arrays for the kernels: one opcode, two wires and an affine angle per gate.
 * Compilation is cached per circuit object (circuits are immutable).
 */
import type { GateName } from '../circuit/gates.ts';
import { type Bindings, type Circuit, isParamAngle, isRotation, paramVector } from '../circuit/ir.ts';
import { ParameterError } from '../errors.ts';

export const OP = { ry: 0, cz: 1, cx: 2, x: 3, z: 4, h: 5, swap: 6, rx: 7, rz: 8 } as const satisfies Record<
  GateName,
  number
>;

export interface Program {
  readonly circuit: Circuit;
  readonly qubits: number;
  /** 2^qubits. */
  readonly dim: number;
  readonly nGates: number;
  readonly nParams: number;
  readonly code: Uint8Array;
  readonly w0: Int32Array;
  /** Second wire of two-qubit gates, −1 otherwise. */
  readonly w1: Int32Array;
  /** Index into θ of the gate's parameter, −1 for a constant angle or a gate without angle. */
  readonly pIndex: Int32Array;
  readonly scale: Float64Array;
  /** The constant angle, or the offset of a symbolic one. */
  readonly offset: Float64Array;
  /** Whether every gate is real (no rx / rz). */
  readonly real: boolean;
}

const cache = new WeakMap<Circuit, Program>();

/** Compile (or fetch the cached compilation of) a circuit. */
export function compile(circuit: Circuit): Program {
  const hit = cache.get(circuit);
  if (hit) return hit;
  const n = circuit.gates.length;
  const code = new Uint8Array(n);
  const w0 = new Int32Array(n);
  const w1 = new Int32Array(n).fill(-1);
  const pIndex = new Int32Array(n).fill(-1);
  const scale = new Float64Array(n);
  const offset = new Float64Array(n);
  const index = new Map(circuit.params.map((p, i) => [p, i]));
  let real = true;
  circuit.gates.forEach((g, i) => {
    code[i] = OP[g.name];
    w0[i] = g.wires[0];
    if (g.wires.length === 2) w1[i] = g.wires[1];
    if (g.name === 'rx' || g.name === 'rz') real = false;
    if (isRotation(g)) {
      if (isParamAngle(g.angle)) {
        pIndex[i] = index.get(g.angle.param)!;
        scale[i] = g.angle.scale;
        offset[i] = g.angle.offset;
      } else {
        offset[i] = g.angle;
      }
    }
  });
  const prog: Program = {
    circuit,
    qubits: circuit.qubits,
    dim: 2 ** circuit.qubits,
    nGates: n,
    nParams: circuit.params.length,
    code,
    w0,
    w1,
    pIndex,
    scale,
    offset,
    real,
  };
  cache.set(circuit, prog);
  return prog;
}

/** θ for a circuit: bindings resolved to a vector; a circuit without parameters accepts `undefined`. */
export function resolveTheta(circuit: Circuit, theta: Bindings | undefined): Float64Array {
  if (theta === undefined) {
    if (circuit.params.length > 0) {
      throw new ParameterError(
        `the circuit has ${circuit.params.length} free parameter(s) (${circuit.params.slice(0, 3).join(', ')}${circuit.params.length > 3 ? ', …' : ''}) and no values were given`,
      );
    }
    return new Float64Array(0);
  }
  return paramVector(circuit, theta);
}

/** Each gate's numeric angle for θ (0 for gates without one). */
export function gateAngles(
  prog: Program,
  theta: ArrayLike<number>,
  out = new Float64Array(prog.nGates),
): Float64Array {
  for (let i = 0; i < prog.nGates; i++) {
    const p = prog.pIndex[i]!;
    out[i] = p < 0 ? prog.offset[i]! : prog.scale[i]! * theta[p]! + prog.offset[i]!;
  }
  return out;
}
