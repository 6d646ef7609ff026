/**
 * A mixed-radix register for any width d as ONE qubit circuit on n = ⌈log₂d⌉ wires (docs/method.md §3).
 *
 * Write d = m·2^a with m odd. Wires 0..a−1 are qubits; the top b = ⌈log₂m⌉ wires a..n−1 hold a qudit of
 * dimension m. **Row map** (`mixedRadixRowBasis`): row r = l·2^a + j of the d×K factor (level l < m of the
 * qudit, j < 2^a on the qubits) is the basis state |gray(l)·2^a + j⟩, with gray(l) = l XOR (l >> 1), so
 * neighbouring levels differ in one bit. The d chosen basis states span a subspace V that every gate leaves
 * invariant, so the circuit restricted to V is exactly orthogonal:
 * - gates on the low wires never change the level;
 * - CZ is diagonal;
 * - the qudit's neighbour-level rotation G_l(θ) is RY(θ) on the wire where gray(l) and gray(l+1) differ,
 *   controlled on the other top wires (whatever the low wires hold), acting as RY on the pair
 *   (|gray(l)⟩, |gray(l+1)⟩) ordered by that wire's bit. Controls that cannot matter on V are dropped
 *   (`circuit/controlled.ts`), and the rest are lowered to ry/cx (no ancilla).
 *
 * **Layers.** The simplified two-design (Cerezo et al. 2021) on a+1 sites, the top site being the qudit:
 * its "RY" is the generalized rotation G = G_{m−2}·…·G_0 (m − 1 angles) and its CZ-type coupling is CZ
 * between the top qubit (wire a−1) and the qudit's lowest wire (wire a). So: RY on every qubit and G on the
 * qudit; then per layer, for the even site pairs then the odd ones, CZ and a rotation on both sites.
 * **Parameters** (`mixedRadixParamCount`), for m ≥ 3:
 *
 *     a ≥ 1:  a + (m − 1) + L·(2a − 2 + m)          a = 0 (d odd):  (L + 1)(m − 1)
 *
 * For m = 2 the construction is the two-design on a+1 qubits (a + 1 + 2La angles); for m = 1 (a power of two)
 * the template is the plain simplified two-design. 768 = 3·2⁸ at L = 2 costs 44 (the direct sum: 119).
 */
import { describe, InputError } from '../../errors.ts';
import { type ControlledOp, lowerControlled, simplifyControls } from '../controlled.ts';
import { type Circuit, cz, type Gate, makeCircuit, param, ry } from '../ir.ts';
import { pairs, thetaName } from './common.ts';
import { simplifiedTwoDesign } from './simplified-two-design.ts';

/** The largest width the mixed-radix builder accepts (2^30 rows, the IR's qubit limit). */
export const MAX_WIDTH = 2 ** 30;

/** d = m·2^a: the odd part m, the qubit count a, the qudit's wires b = ⌈log₂m⌉ and the register n = a + b. */
export interface MixedRadixShape {
  readonly dim: number;
  readonly odd: number;
  readonly low: number;
  readonly quditWires: number;
  readonly qubits: number;
}

/** Split a width into its mixed-radix shape (`InputError` for anything but an integer in 2..2^30). */
export function mixedRadixShape(dim: number): MixedRadixShape {
  if (!Number.isInteger(dim) || dim < 2 || dim > MAX_WIDTH) {
    throw new InputError(`width must be an integer in 2..${MAX_WIDTH}, got ${describe(dim)}`);
  }
  let odd = dim;
  let low = 0;
  while (odd % 2 === 0) {
    odd /= 2;
    low++;
  }
  const quditWires = odd === 1 ? 0 : Math.ceil(Math.log2(odd));
  return { dim, odd, low, quditWires, qubits: low + quditWires };
}

/** The reflected binary Gray code of a level. */
export const grayCode = (level: number): number => level ^ (level >> 1);

/** The basis state of each of the d rows (row l·2^a + j ↦ gray(l)·2^a + j; see the file comment). */
export function mixedRadixRowBasis(dim: number): Int32Array {
  const { low } = mixedRadixShape(dim);
  const block = 2 ** low;
  const out = new Int32Array(dim);
  for (let r = 0; r < dim; r++) out[r] = grayCode(Math.floor(r / block)) * block + (r % block);
  return out;
}

/** The closed-form parameter count of the mixed-radix factor of width `dim` with `layers` layers. */
export function mixedRadixParamCount(dim: number, layers: number): number {
  checkLayers(layers);
  const { odd: m, low: a } = mixedRadixShape(dim);
  if (m === 1) return a + 2 * layers * (a - 1);
  if (a === 0) return (layers + 1) * (m - 1);
  return a + (m - 1) + layers * (2 * a - 2 + m);
}

function checkLayers(layers: number): void {
  if (!Number.isInteger(layers) || layers < 0) {
    throw new InputError(`layers must be a non-negative integer, got ${describe(layers)}`);
  }
}

/**
 * The m − 1 neighbour-level rotations of a qudit of dimension m on b wires (wire 0 = the qudit's lowest):
 * for level pair (l, l+1), the target wire and the controls left after dropping those that cannot matter
 * on the m embedded levels.
 */
export function quditRotations(m: number): ControlledOp[] {
  if (!Number.isInteger(m) || m < 2) throw new InputError(`qudit dimension must be ≥ 2, got ${describe(m)}`);
  const b = Math.ceil(Math.log2(m));
  const levels = new Set<number>();
  for (let l = 0; l < m; l++) levels.add(grayCode(l));
  const inV = (i: number) => levels.has(i);
  const out: ControlledOp[] = [];
  for (let l = 0; l + 1 < m; l++) {
    const g = grayCode(l);
    const target = Math.log2(g ^ grayCode(l + 1));
    const controls = [];
    for (let w = 0; w < b; w++) if (w !== target) controls.push({ wire: w, value: ((g >> w) & 1) as 0 | 1 });
    out.push(simplifyControls({ kind: 'ry', target, angle: 0, controls }, inV, b));
  }
  return out;
}

/**
 * The two-design with a qudit of dimension m ≥ 2 on top of `low` qubits (see the file comment); for m = 2 it
 * is gate for gate the simplified two-design on low + 1 qubits. Parameters `theta0…` in order of use.
 */
export function quditTwoDesign(low: number, m: number, layers: number): Circuit {
  checkLayers(layers);
  if (!Number.isInteger(low) || low < 0) {
    throw new InputError(`qubit count must be a non-negative integer, got ${describe(low)}`);
  }
  const b = Math.ceil(Math.log2(m));
  const qubits = low + b;
  const rotations = quditRotations(m);
  const gates: Gate[] = [];
  let k = 0;
  const next = () => param(thetaName(k++));
  const qudit = () => {
    for (const op of rotations) {
      if (op.kind !== 'ry') continue;
      const shifted: ControlledOp = {
        kind: 'ry',
        target: op.target + low,
        angle: next(),
        controls: op.controls.map((c) => ({ wire: c.wire + low, value: c.value })),
      };
      gates.push(...lowerControlled(shifted, qubits));
    }
  };
  for (let w = 0; w < low; w++) gates.push(ry(w, next()));
  qudit();
  for (let l = 0; l < layers; l++) {
    if (low === 0) qudit();
    for (const [s, t] of [...pairs(low + 1, 0), ...pairs(low + 1, 1)]) {
      gates.push(cz(s, t), ry(s, next()));
      if (t < low) gates.push(ry(t, next()));
      else qudit();
    }
  }
  return makeCircuit({ qubits, gates, params: Array.from({ length: k }, (_, i) => thetaName(i)) });
}

/**
 * The mixed-radix factor circuit of width `dim` on ⌈log₂dim⌉ qubits with `layers` layers (the plain simplified
 * two-design when dim is a power of two). Its first K factor columns are the circuit applied to
 * `mixedRadixRowBasis(dim)[0..K)`, read on the rows `mixedRadixRowBasis(dim)`.
 */
export function mixedRadixCircuit(dim: number, layers: number): Circuit {
  checkLayers(layers);
  const { odd, low } = mixedRadixShape(dim);
  if (odd === 1) return simplifiedTwoDesign(low, layers);
  return quditTwoDesign(low, odd, layers);
}
