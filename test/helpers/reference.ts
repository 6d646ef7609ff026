/**
 * Independent references for tests: quantum-circuit's matrix for our circuits, random circuits over the
 * real gate set, and small dense linear algebra written without the simulator.
 */

import type QuantumCircuit from 'quantum-circuit';
import {
  type Circuit,
  cx,
  cz,
  type Gate,
  h,
  makeCircuit,
  param,
  ry,
  swap,
  x,
  z,
} from '../../src/circuit/ir.ts';
import { quantumCircuitMatrix, toQuantumCircuit } from '../../src/interop/quantum-circuit.ts';
import { createRng } from '../../src/util/random.ts';

/** quantum-circuit's little-endian matrix of a bound circuit (real and imaginary parts). */
export function referenceMatrix(circuit: Circuit, theta?: ArrayLike<number>) {
  return quantumCircuitMatrix(toQuantumCircuit(circuit, theta));
}

/**
 * quantum-circuit's state after running a bound circuit from |0…0⟩ (little-endian, real and imaginary
 * parts): the first column of `referenceMatrix`, from its state-vector simulation instead of the full
 * matrix (which costs one matrix product per gate).
 */
export function referenceState(circuit: Circuit, theta?: ArrayLike<number>) {
  return quantumCircuitState(toQuantumCircuit(circuit, theta));
}

/** Run a quantum-circuit instance from |0…0⟩ and read its full-precision amplitudes (little-endian). */
export function quantumCircuitState(qc: QuantumCircuit): { re: Float64Array; im: Float64Array; dim: number } {
  qc.run();
  const dim = 2 ** qc.numQubits;
  const re = new Float64Array(dim);
  const im = new Float64Array(dim);
  for (const [key, v] of Object.entries(qc.state)) {
    const i = Number(key);
    re[i] = typeof v === 'number' ? v : v.re;
    im[i] = typeof v === 'number' ? 0 : v.im;
  }
  return { re, im, dim };
}

/** A random circuit over every real gate, with `gates` gates; RY angles are parameters p0, p1, …. */
export function randomRealCircuit(
  qubits: number,
  gates: number,
  seed: number,
): { circuit: Circuit; theta: Float64Array } {
  const rng = createRng(seed);
  const list: Gate[] = [];
  let k = 0;
  const two = (): [number, number] => {
    const a = rng.int(qubits);
    let b = rng.int(qubits - 1);
    if (b >= a) b++;
    return [a, b];
  };
  for (let i = 0; i < gates; i++) {
    const kind = qubits === 1 ? rng.int(4) : rng.int(7);
    const w = rng.int(qubits);
    if (kind === 0) list.push(ry(w, param(`p${k++}`)));
    else if (kind === 1) list.push(x(w));
    else if (kind === 2) list.push(z(w));
    else if (kind === 3) list.push(h(w));
    else if (kind === 4) list.push(cz(...two()));
    else if (kind === 5) list.push(cx(...two()));
    else list.push(swap(...two()));
  }
  const theta = Float64Array.from({ length: k }, () => (rng.next() * 2 - 1) * Math.PI);
  return { circuit: makeCircuit({ qubits, gates: list }), theta };
}

/** Largest absolute entry-wise difference. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Row-major product of dense matrices (m×p)·(p×q), plain loops. */
export function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  p: number,
  q: number,
): Float64Array {
  const out = new Float64Array(m * q);
  for (let i = 0; i < m; i++)
    for (let k = 0; k < p; k++) for (let j = 0; j < q; j++) out[i * q + j]! += a[i * p + k]! * b[k * q + j]!;
  return out;
}
