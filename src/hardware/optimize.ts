/**
 * The `ibm` basis (rz, sx, x, cz) for measured programs, optimised. The plain exporter writes every RY as
 * sx · rz(θ + π) · sx · rz(π) (4 gates). Here:
 * - each RY on a wire alternates between two exact forms, A = sx · rz(θ + π) · sx · rz(π) and
 *   B = rz(π) · sx · rz(π − θ) · sx (B = rz(−π) · A(−θ) · rz(π), and RZ(π)·RY(θ)·RZ(−π) = RY(−θ)), in time
 *   order, so that A's trailing rz(π) meets the next B's leading rz(π);
 * - rz gates commute with cz (both diagonal), so each rz moves forward past cz gates and merges with the next
 *   rz on its wire; angles are reduced mod 2π and rz(0) (also rz(2π) = −I, a global phase) is dropped;
 * - an rz with only diagonal gates after it on its wire is dropped (the measurement is in the computational
 *   basis, so a diagonal gate before it changes no probability), and so is an rz acting on a wire that is
 *   still in a basis state (only x and cz before it: the gate multiplies the state by a phase);
 * - adjacent x · x on a wire cancel.
 * The result equals the native program up to a global phase (and up to diagonal gates right before the
 * measurement, which no count sees); the tests re-simulate both. For the templates this makes 3 gates per RY.
 */
import { bindParameters, type Circuit, makeCircuit } from '../circuit/ir.ts';
import { InputError } from '../errors.ts';
import { type Coupling, routeCircuit } from '../qasm/connectivity.ts';
import { gateListStats, translateGates } from '../qasm/export.ts';
import { formatNumber } from '../qasm/printer.ts';

/** One gate of the optimised program (angles numeric: the program is bound). */
export interface IbmGate {
  readonly name: 'rz' | 'sx' | 'x' | 'cz';
  readonly wires: readonly number[];
  readonly angle?: number;
}

/** Gate statistics of a program: counts by name, total, two-qubit gates, depth (ASAP layering). */
export interface ProgramStats {
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  readonly twoQubit: number;
  readonly depth: number;
}

/** Counts, total, two-qubit gates and depth of a gate list. */
export function programStats(
  gates: readonly { name: string; wires: readonly number[] }[],
  qubits: number,
): ProgramStats {
  return gateListStats(gates, qubits);
}

const TAU = 2 * Math.PI;
function reduce(a: number): number {
  let r = a - TAU * Math.round(a / TAU);
  if (r <= -Math.PI) r += TAU;
  return Math.abs(r) < 1e-12 ? 0 : r;
}

/** Translate a bound circuit to rz/sx/x/cz with alternating RY forms (before the peephole passes). */
function lower(circuit: Circuit): IbmGate[] {
  const out: IbmGate[] = [];
  const count = new Array<number>(circuit.qubits).fill(0);
  for (const g of circuit.gates) {
    if (g.name === 'ry') {
      const w = g.wires[0];
      const theta = g.angle as number;
      if (count[w]!++ % 2 === 0) {
        out.push({ name: 'rz', wires: [w], angle: Math.PI });
        out.push({ name: 'sx', wires: [w] });
        out.push({ name: 'rz', wires: [w], angle: Math.PI - theta });
        out.push({ name: 'sx', wires: [w] });
      } else {
        out.push({ name: 'sx', wires: [w] });
        out.push({ name: 'rz', wires: [w], angle: theta + Math.PI });
        out.push({ name: 'sx', wires: [w] });
        out.push({ name: 'rz', wires: [w], angle: Math.PI });
      }
      continue;
    }
    const single = makeCircuit({ qubits: circuit.qubits, gates: [g], params: [] });
    for (const t of translateGates(single, 'ibm')) {
      const a = t.args[0];
      if (a && a.p !== null) throw new InputError('optimizeIbm needs a bound circuit');
      out.push({ name: t.name as IbmGate['name'], wires: [...t.wires], ...(a ? { angle: a.b } : {}) });
    }
  }
  return out;
}

/** The peephole passes of the file comment. */
function peephole(gates: IbmGate[], qubits: number): IbmGate[] {
  // 1. merge rz forward through cz; cancel x·x
  const out: (IbmGate | null)[] = [];
  const pendingRz = new Array<number>(qubits).fill(-1);
  const lastOp = new Array<number>(qubits).fill(-1);
  for (const g of gates) {
    if (g.name === 'rz') {
      const w = g.wires[0]!;
      const p = pendingRz[w]!;
      if (p >= 0) {
        const merged = reduce(out[p]!.angle! + g.angle!);
        out[p] = { name: 'rz', wires: [w], angle: merged };
        continue;
      }
      out.push({ name: 'rz', wires: [w], angle: reduce(g.angle!) });
      pendingRz[w] = out.length - 1;
      lastOp[w] = out.length - 1;
      continue;
    }
    if (g.name === 'x') {
      const w = g.wires[0]!;
      const l = lastOp[w]!;
      if (l >= 0 && out[l]?.name === 'x') {
        out[l] = null;
        lastOp[w] = -1;
        pendingRz[w] = -1;
        continue;
      }
    }
    out.push(g);
    for (const w of g.wires) lastOp[w] = out.length - 1;
    if (g.name !== 'cz') for (const w of g.wires) pendingRz[w] = -1;
  }
  let list = out.filter((g): g is IbmGate => g !== null && !(g.name === 'rz' && g.angle === 0));
  // 2. drop rz with only diagonal gates after it on its wire
  const tailDiagonal = new Array<boolean>(qubits).fill(true);
  const keep = new Array<boolean>(list.length).fill(true);
  for (let i = list.length - 1; i >= 0; i--) {
    const g = list[i]!;
    if (g.name === 'rz') {
      if (tailDiagonal[g.wires[0]!]) keep[i] = false;
    } else if (g.name !== 'cz') for (const w of g.wires) tailDiagonal[w] = false;
  }
  list = list.filter((_, i) => keep[i]);
  // 3. drop rz on a wire still in a basis state
  const basis = new Array<boolean>(qubits).fill(true);
  list = list.filter((g) => {
    if (g.name === 'rz') return !basis[g.wires[0]!];
    if (g.name === 'sx') basis[g.wires[0]!] = false;
    return true;
  });
  return list;
}

/** An optimised `ibm`-basis program, its statistics, and its OpenQASM text. */
export interface IbmProgram {
  readonly qubits: number;
  readonly gates: readonly IbmGate[];
  /** `measureMap[i]`: the wire whose qubit lands in classical bit i (the identity unless routed). */
  readonly measureMap: readonly number[];
  readonly stats: ProgramStats;
  /** The program as OpenQASM 2 or 3 text with measurement of every logical qubit. */
  qasm(version: 2 | 3, options?: { comment?: string; coupling?: Coupling }): string;
}

/**
 * Optimise a measured program (a circuit with bound or given angles) into rz/sx/x/cz (see the file comment).
 * With `coupling` the circuit is first routed (SWAPs as 3 CX each), and the measurement follows the final
 * layout.
 */
export function optimizeIbm(circuit: Circuit, theta?: ArrayLike<number>, coupling?: Coupling): IbmProgram {
  let c = theta !== undefined ? bindParameters(circuit, theta) : circuit;
  if (c.params.length) throw new InputError(`optimizeIbm: ${c.params.length} parameter(s) are unbound`);
  const logical = c.qubits;
  let measureMap = Array.from({ length: logical }, (_, i) => i);
  if (coupling !== undefined && coupling !== 'all') {
    const routed = routeCircuit(c, coupling);
    if (routed.swaps > 0) {
      c = routed.circuit;
      measureMap = routed.layout;
    }
  }
  const gates = peephole(lower(c), c.qubits);
  const stats = programStats(gates, c.qubits);
  const qubits = c.qubits;
  return {
    qubits,
    gates,
    measureMap,
    stats,
    qasm(version, options = {}) {
      const lines: string[] = [];
      lines.push(version === 3 ? 'OPENQASM 3.0;' : 'OPENQASM 2.0;');
      lines.push(version === 3 ? 'include "stdgates.inc";' : 'include "qelib1.inc";');
      if (options.comment) for (const l of options.comment.split('\n')) lines.push(`// ${l}`);
      lines.push(version === 3 ? `qubit[${qubits}] q;` : `qreg q[${qubits}];`);
      lines.push(version === 3 ? `bit[${logical}] c;` : `creg c[${logical}];`);
      for (const g of gates) {
        const ops = g.wires.map((w) => `q[${w}]`).join(', ');
        lines.push(
          g.angle !== undefined ? `${g.name}(${formatNumber(g.angle)}) ${ops};` : `${g.name} ${ops};`,
        );
      }
      lines.push('barrier q;');
      const identity = measureMap.every((p, i) => p === i) && logical === qubits;
      if (identity) lines.push(version === 3 ? 'c = measure q;' : 'measure q -> c;');
      else
        measureMap.forEach((p, i) => {
          lines.push(version === 3 ? `c[${i}] = measure q[${p}];` : `measure q[${p}] -> c[${i}];`);
        });
      return `${lines.join('\n')}\n`;
    },
  };
}
