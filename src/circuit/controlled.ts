/**
 * Multi-controlled real operations, lowered to the IR's ry / cx / x / z / cz, for circuits that act on a
 * subspace of the register (the mixed-radix and direct-sum factors of `peft/factor.ts`).
 *
 * Two kinds of operation:
 * - `ry`: RY(angle) on `target`, applied only where every control wire holds its value;
 * - `sign`: −1 on the basis states where every control wire holds its value (C^{k−1}Z up to X's).
 *
 * A factor lives on a set V of basis states (its rows). Controls that never matter on V are "don't cares":
 * `simplifyControls` drops them greedily while the operation still acts on V exactly as the fully controlled
 * one does and still maps V into V. Fewer controls mean exponentially fewer gates.
 *
 * Lowering (no ancilla, no complex gate): a k-controlled RY(θ) is a uniformly controlled rotation with one
 * non-zero angle (Möttönen et al., PRL 93, 130502, 2004): 2^k RY(±θ/2^k) on the target, each followed by a
 * CX from the control whose bit changes in the Gray-code sequence. The X's cancel, and for control pattern x
 * the target turns by Σ_s (−1)^{x·g_s}·β_s, so β_s = (−1)^{v·g_s}·θ/2^k selects exactly the pattern v. The
 * scales ±2^−k are exact in floating point, so the angles stay affine in θ (`ParamAngle`), which keeps the
 * parameters symbolic for OpenQASM `input`s. A sign on k ≥ 3 wires is C^k RY(2π) on a spare wire
 * (RY(2π) = −I); on three wires with no spare wire it cannot be written with real one- and two-qubit gates
 * (every such circuit has determinant +1, a three-wire CCZ has −1), and `lowerControlled` says so.
 */
import { CircuitError, describe } from '../errors.ts';
import { type Angle, cx, cz, type Gate, isParamAngle, param, ry, x, z } from './ir.ts';

/** A control: the operation acts where wire `wire` holds `value`. */
export interface Control {
  readonly wire: number;
  readonly value: 0 | 1;
}

/** A multi-controlled RY or sign flip (see the file comment). */
export type ControlledOp =
  | {
      readonly kind: 'ry';
      readonly target: number;
      readonly angle: Angle;
      readonly controls: readonly Control[];
    }
  | { readonly kind: 'sign'; readonly controls: readonly Control[] };

const matches = (i: number, controls: readonly Control[]) =>
  controls.every((c) => ((i >> c.wire) & 1) === c.value);

/**
 * Whether `reduced` acts on the subspace `inV` (a predicate on basis indices 0..2^qubits−1) exactly as `op`
 * does and keeps it invariant.
 */
function equivalentOnV(
  op: ControlledOp,
  reduced: readonly Control[],
  inV: (i: number) => boolean,
  qubits: number,
): boolean {
  const dim = 2 ** qubits;
  if (op.kind === 'sign') {
    for (let i = 0; i < dim; i++) {
      if (inV(i) && matches(i, reduced) !== matches(i, op.controls)) return false;
    }
    return true;
  }
  const bit = 1 << op.target;
  for (let i = 0; i < dim; i++) {
    if (i & bit) continue;
    const j = i | bit;
    if (!matches(i, reduced)) continue;
    if (matches(i, op.controls)) continue;
    // acted on by the reduced gate only: harmless only if neither state is in V
    if (inV(i) || inV(j)) return false;
  }
  return true;
}

/**
 * Drop the controls of `op` that do not matter on the subspace `inV`, one at a time, highest wire first
 * (greedy: the result is minimal in the sense that no single further control can go). The fully controlled
 * `op` must itself map V into V (callers build it that way).
 */
export function simplifyControls(
  op: ControlledOp,
  inV: (i: number) => boolean,
  qubits: number,
): ControlledOp {
  let controls = [...op.controls].sort((a, b) => b.wire - a.wire);
  for (const c of [...controls]) {
    const trial = controls.filter((d) => d !== c);
    if (equivalentOnV(op, trial, inV, qubits)) controls = trial;
  }
  controls.sort((a, b) => a.wire - b.wire);
  return op.kind === 'ry' ? { ...op, controls } : { kind: 'sign', controls };
}

function scaled(angle: Angle, s: number): Angle {
  if (isParamAngle(angle)) return param(angle.param, angle.scale * s, angle.offset * s);
  return angle * s;
}

/** RY(angle) on `target` where every control holds its value: 2^k RY and 2^k CX (k = controls). */
function lowerRy(target: number, angle: Angle, controls: readonly Control[]): Gate[] {
  const k = controls.length;
  if (k === 0) return [ry(target, angle)];
  const n = 2 ** k;
  let v = 0;
  controls.forEach((c, i) => {
    v |= c.value << i;
  });
  const gray = (s: number) => s ^ (s >> 1);
  const out: Gate[] = [];
  for (let s = 0; s < n; s++) {
    const g = gray(s);
    let parity = 0;
    for (let m = v & g; m; m &= m - 1) parity ^= 1;
    out.push(ry(target, scaled(angle, (parity ? -1 : 1) / n)));
    const changed = Math.log2(g ^ gray((s + 1) % n));
    out.push(cx(controls[changed]!.wire, target));
  }
  return out;
}

/** −1 where every control holds its value. */
function lowerSign(controls: readonly Control[], qubits: number): Gate[] {
  const k = controls.length;
  if (k === 0) {
    throw new CircuitError('a sign flip with no control is a global phase of −1; nothing to lower');
  }
  if (k >= 3) {
    // C^k RY(2π) = −1 on the control pattern whatever the spare wire holds; the Gray-code lowering
    // takes the control values as they are, so no X is needed
    const used = new Set(controls.map((c) => c.wire));
    let spare = -1;
    for (let w = 0; w < qubits && spare < 0; w++) if (!used.has(w)) spare = w;
    if (spare < 0) {
      throw new CircuitError(
        `a sign flip controlled on ${k} wires needs a spare wire (C^${k}RY(2π)); the register has ${qubits} qubit(s), all of them controls`,
      );
    }
    return lowerRy(spare, 2 * Math.PI, controls);
  }
  const flips = controls.filter((c) => c.value === 0).map((c) => x(c.wire));
  const core = k === 1 ? z(controls[0]!.wire) : cz(controls[0]!.wire, controls[1]!.wire);
  return [...flips, core, ...flips];
}

/** The IR gates of a controlled operation on a register of `qubits` wires. */
export function lowerControlled(op: ControlledOp, qubits: number): Gate[] {
  const wires =
    op.kind === 'ry' ? [op.target, ...op.controls.map((c) => c.wire)] : op.controls.map((c) => c.wire);
  if (
    new Set(wires).size !== wires.length ||
    wires.some((w) => !Number.isInteger(w) || w < 0 || w >= qubits)
  ) {
    throw new CircuitError(
      `controlled ${op.kind}: wires must be distinct integers in 0..${qubits - 1}, got ${describe(wires)}`,
    );
  }
  if (op.kind === 'sign') return lowerSign(op.controls, qubits);
  return lowerRy(op.target, op.angle, op.controls);
}
