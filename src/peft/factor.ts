/**
 * Orthogonal factors P ∈ St(d, K) made of circuits, for any dimension d (docs/method.md §1–3).
 *
 * Powers of two: one circuit on n = log₂ d qubits, P = its first K columns.
 *
 * Other sizes: a **direct sum** (our choice among METHOD §3's options; the quantum-Shannon-style split).
 * With d₁ the largest power of two below d and d₂ = d − d₁, the d×d orthogonal operator is
 *
 *     O_d = diag(A, O_{d₂}) · M(φ) · diag(B, I_{d₂})
 *
 * where A, B are circuits on log₂ d₁ qubits, O_{d₂} is the same construction for d₂ (recursively; a 1×1
 * block is the identity), and M(φ) is one Givens rotation by φ applied to every pair (row j of the first
 * block, row j of the second), j < d₂: the generalized RY of a "which block" qubit, controlled so that it
 * acts only where the partner row exists. Every piece is orthogonal, so PᵀP = I exactly (to float32 rounding),
 * unlike padding to 2^⌈log₂ d⌉ and dropping rows. For 768 = 512 + 256 this is two 9-qubit circuits, one
 * 8-qubit circuit and one angle. Parameters, with d = Σᵢ 2^{eᵢ} (binary digits e₀ > e₁ > … > e_m):
 *
 *     Σ_{i<m} (2·t(eᵢ) + 1) + t(e_m),   t(e) = template parameters on e qubits (t(0) = 0)
 *
 * (`directSumParamCount`).
 *
 * Other sizes, **mixed radix** (`circuit/templates/mixed-radix.ts`): d = m·2^a as one circuit on ⌈log₂d⌉
 * qubits, a qudit of dimension m on the top wires; d = 768 at L = 2 costs 44 angles (the direct sum 119).
 * `form: 'auto'` takes the cheaper of the two by their closed-form counts (ties go to mixed radix; the
 * direct sum only above d = 8, where it can be written as one circuit, see `factorCircuit`). Large odd
 * parts favour the direct sum (1000 = 125·8: 385 vs 326 at L = 2).
 *
 * Either way the whole factor is one circuit on ⌈log₂d⌉ qubits (`factorCircuit`) whose matrix, read on the
 * rows `rowBasis`, has P as its first K columns: the export to OpenQASM writes that one program.
 */
import { type Control, type ControlledOp, lowerControlled, simplifyControls } from '../circuit/controlled.ts';
import type { Circuit, Gate } from '../circuit/ir.ts';
import { complexGates, isParamAngle, makeCircuit, param } from '../circuit/ir.ts';
import { thetaName } from '../circuit/templates/common.ts';
import { getTemplate, type TemplateName } from '../circuit/templates/index.ts';
import {
  mixedRadixCircuit,
  mixedRadixParamCount,
  mixedRadixRowBasis,
} from '../circuit/templates/mixed-radix.ts';
import { CircuitError, describe, InputError, UnsupportedGateError } from '../errors.ts';
import { applyToStates, columns, subspaceColumns } from '../sim/simulate.ts';
import { applyCircuit, circuitColumns, circuitSubspaceColumns } from '../sim/tf/bridge.ts';
import { tfColumns } from '../sim/tf/ops-path.ts';
import { tf } from '../tf/backend.ts';
import type { Matrix } from '../util/matrix.ts';
import { directSumParamCount } from './param-counts.ts';

/** How a circuit's matrix enters tfjs: the kernel bridge (adjoint VJP) or the tfjs-ops statevector path. */
export type ColumnsPath = 'kernel' | 'ops';

/**
 * How a width that is not a power of two becomes a factor: `mixed-radix` (one circuit with a qudit),
 * `direct-sum` (the recursive split), or `auto` (the cheaper; see the file comment).
 */
export type FactorForm = 'auto' | 'mixed-radix' | 'direct-sum';
export const FACTOR_FORMS: readonly FactorForm[] = ['auto', 'mixed-radix', 'direct-sum'];

/** A direct-sum node, a single circuit, or a mixed-radix circuit, with offsets into the factor's flat θ. */
export type FactorPlan =
  | { readonly kind: 'identity'; readonly dim: 1 }
  | {
      readonly kind: 'radix';
      readonly dim: number;
      readonly circuit: Circuit;
      /** The register's basis state of each of the d rows (`mixedRadixRowBasis`). */
      readonly rowBasis: Int32Array;
      readonly offset: 0;
      readonly label: string;
    }
  | {
      readonly kind: 'circuit';
      readonly dim: number;
      readonly circuit: Circuit;
      readonly offset: number;
      readonly label: string;
    }
  | {
      readonly kind: 'sum';
      readonly dim: number;
      readonly pre: FactorPlan & { kind: 'circuit' };
      readonly mix: number;
      readonly post: FactorPlan & { kind: 'circuit' };
      readonly rest: FactorPlan;
    };

/**
 * Where a factor's circuits come from: a template with layers (and, for widths that are not powers of two,
 * the form; default `direct-sum`, the layout of adapters saved before mixed radix existed), or one fixed
 * circuit (power-of-two d).
 */
export type CircuitSource =
  | { readonly template: TemplateName; readonly layers: number; readonly form?: FactorForm }
  | { readonly circuit: Circuit };

const isPow2 = (d: number) => d >= 1 && (d & (d - 1)) === 0;

/**
 * The form a width takes: `power-of-two` (one template circuit), or the resolved `mixed-radix` /
 * `direct-sum` for the requested form. `auto` compares the closed-form counts (ties → mixed radix); the direct
 * sum is eligible only above d = 8 (on three qubits its controlled CZ would need a spare wire).
 */
export function resolveFactorForm(
  dim: number,
  template: TemplateName,
  layers: number,
  form: FactorForm = 'direct-sum',
): 'power-of-two' | 'mixed-radix' | 'direct-sum' {
  if (!FACTOR_FORMS.includes(form)) {
    throw new InputError(`factor form must be one of ${FACTOR_FORMS.join(', ')}, got ${describe(form)}`);
  }
  if (!Number.isInteger(dim) || dim < 1)
    throw new InputError(`factor dimension must be a positive integer, got ${describe(dim)}`);
  if (isPow2(dim)) return 'power-of-two';
  if (form !== 'auto') return form;
  if (dim <= 8) return 'mixed-radix';
  const tpl = getTemplate(template);
  const direct = directSumParamCount(dim, (n) => tpl.paramCount(n, layers));
  return mixedRadixParamCount(dim, layers) <= direct ? 'mixed-radix' : 'direct-sum';
}

/** The closed-form θ length of a template factor of width `dim` in the given form (see `resolveFactorForm`). */
export function factorParamCount(
  dim: number,
  template: TemplateName,
  layers: number,
  form: FactorForm = 'direct-sum',
): number {
  const tpl = getTemplate(template);
  const resolved = resolveFactorForm(dim, template, layers, form);
  if (resolved === 'mixed-radix') return mixedRadixParamCount(dim, layers);
  return directSumParamCount(dim, (n) => tpl.paramCount(n, layers));
}

/** Refuse circuits with complex gates, naming the first one. */
export function assertRealCircuit(circuit: Circuit, what: string): void {
  const bad = complexGates(circuit);
  if (bad.length) {
    throw new UnsupportedGateError(
      `${what}: adapter circuits must be real (ry, cz, cx, x, z, h, swap) so that P and Q are orthogonal; gate ${bad[0]!.index} is ${bad[0]!.name}${bad.length > 1 ? ` (and ${bad.length - 1} more complex gate(s))` : ''}`,
    );
  }
}

/** The plan of a factor of dimension d and its θ length. */
export function planFactor(
  dim: number,
  source: CircuitSource,
  label = 'P',
): { plan: FactorPlan; count: number } {
  if (!Number.isInteger(dim) || dim < 1)
    throw new InputError(`factor dimension must be a positive integer, got ${describe(dim)}`);
  if ('circuit' in source) {
    const n = 2 ** source.circuit.qubits;
    if (n !== dim) {
      throw new InputError(
        `${label}: a circuit on ${source.circuit.qubits} qubits gives ${n}×${n} matrices, but this layer needs dimension ${dim}` +
          (isPow2(dim)
            ? ` (use a ${Math.log2(dim)}-qubit circuit)`
            : ' (circuit files need power-of-two dimensions; use a template)'),
      );
    }
    assertRealCircuit(source.circuit, label);
    return {
      plan: { kind: 'circuit', dim, circuit: source.circuit, offset: 0, label },
      count: source.circuit.params.length,
    };
  }
  const tpl = getTemplate(source.template);
  if (resolveFactorForm(dim, source.template, source.layers, source.form) === 'mixed-radix') {
    const circuit = mixedRadixCircuit(dim, source.layers);
    return {
      plan: { kind: 'radix', dim, circuit, rowBasis: mixedRadixRowBasis(dim), offset: 0, label },
      count: circuit.params.length,
    };
  }
  let offset = 0;
  const circuitNode = (d: number, l: string): FactorPlan & { kind: 'circuit' } => {
    const circuit = tpl.build(Math.log2(d), source.layers);
    const node = { kind: 'circuit' as const, dim: d, circuit, offset, label: l };
    offset += circuit.params.length;
    return node;
  };
  const build = (d: number, l: string): FactorPlan => {
    if (d === 1) return { kind: 'identity', dim: 1 };
    if (isPow2(d)) return circuitNode(d, l);
    const d1 = 2 ** Math.floor(Math.log2(d));
    const pre = circuitNode(d1, `${l}.pre`);
    const mix = offset++;
    const post = circuitNode(d1, `${l}.post`);
    const rest = build(d - d1, `${l}.rest`);
    return { kind: 'sum', dim: d, pre, mix, post, rest };
  };
  const plan = build(dim, label);
  return { plan, count: offset };
}

/** The circuits of a plan with their θ slices (for QASM export). */
export function planCircuits(
  plan: FactorPlan,
  theta: Float64Array,
): { name: string; circuit: Circuit; theta: Float64Array }[] {
  if (plan.kind === 'identity') return [];
  if (plan.kind === 'circuit' || plan.kind === 'radix') {
    return [
      {
        name: plan.label,
        circuit: plan.circuit,
        theta: theta.slice(plan.offset, plan.offset + plan.circuit.params.length),
      },
    ];
  }
  return [
    ...planCircuits(plan.pre, theta),
    ...planCircuits(plan.post, theta),
    ...planCircuits(plan.rest, theta),
  ];
}

function sliceTheta(theta: tf.Tensor1D, node: FactorPlan & { kind: 'circuit' }): tf.Tensor1D {
  const p = node.circuit.params.length;
  return p === theta.shape[0] ? theta : theta.slice(node.offset, p);
}

function circuitApply(
  node: FactorPlan & { kind: 'circuit' },
  theta: tf.Tensor1D,
  x: tf.Tensor2D,
  path: ColumnsPath,
): tf.Tensor2D {
  const th = sliceTheta(theta, node);
  if (path === 'ops') return tf.matMul(tfColumns(node.circuit, th, node.dim), x);
  return applyCircuit(node.circuit, th, x);
}

/** Apply the plan's full d×d operator to the columns of x [d, B]. */
function applyPlan(plan: FactorPlan, theta: tf.Tensor1D, x: tf.Tensor2D, path: ColumnsPath): tf.Tensor2D {
  if (plan.kind === 'identity') return x;
  if (plan.kind === 'circuit') return circuitApply(plan, theta, x, path);
  if (plan.kind === 'radix') throw new InputError('a mixed-radix factor is never part of a direct sum');
  const d1 = plan.pre.dim;
  const d2 = plan.dim - d1;
  const b = x.shape[1];
  const top = circuitApply(plan.pre, theta, x.slice([0, 0], [d1, b]), path);
  return mixAndFinish(plan, theta, top, x.slice([d1, 0], [d2, b]), path);
}

function mixAndFinish(
  plan: FactorPlan & { kind: 'sum' },
  theta: tf.Tensor1D,
  top: tf.Tensor2D,
  bottom: tf.Tensor2D,
  path: ColumnsPath,
): tf.Tensor2D {
  const d1 = plan.pre.dim;
  const d2 = plan.dim - d1;
  const b = top.shape[1];
  const phi = theta.slice(plan.mix, 1).reshape([1, 1]);
  const c = tf.cos(phi);
  const s = tf.sin(phi);
  const t1 = top.slice([0, 0], [d2, b]);
  const mixedTop = t1.mul(c).sub(bottom.mul(s));
  const mixedBottom = t1.mul(s).add(bottom.mul(c));
  const newTop = d2 < d1 ? tf.concat([mixedTop, top.slice([d2, 0], [d1 - d2, b])], 0) : mixedTop;
  const outTop = circuitApply(plan.post, theta, newTop as tf.Tensor2D, path);
  const outBottom = applyPlan(plan.rest, theta, mixedBottom as tf.Tensor2D, path);
  return tf.concat([outTop, outBottom], 0) as tf.Tensor2D;
}

/**
 * P = O(θ)·I_{d,K}: the factor's first K columns as float32 [d, K], differentiable with respect to `theta`.
 * The caller owns the result.
 */
export function factorColumns(
  plan: FactorPlan,
  theta: tf.Tensor1D,
  k: number,
  path: ColumnsPath = 'kernel',
): tf.Tensor2D {
  if (!Number.isInteger(k) || k < 1 || k > plan.dim) {
    throw new InputError(
      `rank K must be an integer in 1..${plan.dim} (the factor's dimension), got ${describe(k)}`,
    );
  }
  return tf.tidy(() => {
    if (plan.kind === 'identity') return tf.ones([1, 1]) as tf.Tensor2D;
    if (plan.kind === 'radix') {
      if (path === 'kernel') return circuitSubspaceColumns(plan.circuit, theta, plan.rowBasis, k);
      // the ops path builds the columns up to the last input state, then keeps the subspace's rows/columns
      const last = plan.rowBasis[k - 1]! + 1;
      const u = tfColumns(plan.circuit, theta, last);
      return pickRows(pickRows(u, plan.rowBasis).transpose(), plan.rowBasis.subarray(0, k)).transpose();
    }
    if (plan.kind === 'circuit') {
      const th = sliceTheta(theta, plan);
      return path === 'ops' ? tfColumns(plan.circuit, th, k) : circuitColumns(plan.circuit, th, k);
    }
    const d1 = plan.pre.dim;
    const d2 = plan.dim - d1;
    if (k <= d1) {
      // the first K basis states lie in the first block: B's columns, zeros below
      const th = sliceTheta(theta, plan.pre);
      const top =
        path === 'ops' ? tfColumns(plan.pre.circuit, th, k) : circuitColumns(plan.pre.circuit, th, k);
      return mixAndFinish(plan, theta, top, tf.zeros([d2, k]), path);
    }
    return applyPlan(plan, theta, tf.eye(plan.dim, k) as tf.Tensor2D, path);
  });
}

/** Rows `rows` of x ([N, B]) in that order, by slices of contiguous runs (slice/concat have gradients everywhere). */
function pickRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  const b = x.shape[1];
  let start = 0;
  while (start < rows.length) {
    let end = start + 1;
    while (end < rows.length && rows[end] === rows[end - 1]! + 1) end++;
    parts.push(x.slice([rows[start]!, 0], [end - start, b]));
    start = end;
  }
  return parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as tf.Tensor2D);
}

/** The register basis state of each of the factor's d rows (the identity map for powers of two and sums). */
export function factorRowBasis(plan: FactorPlan): Int32Array {
  if (plan.kind === 'radix') return plan.rowBasis;
  return Int32Array.from({ length: plan.dim }, (_, i) => i);
}

/** The register size of a factor's one circuit: ⌈log₂d⌉ qubits. */
export function factorQubits(plan: FactorPlan): number {
  return Math.ceil(Math.log2(plan.dim));
}

/** Apply the plan's d×d operator to the columns of x (d×B, float64, row-major) in place. */
function applyPlan64(plan: FactorPlan, theta: Float64Array, x: Float64Array, b: number): void {
  if (plan.kind === 'identity') return;
  if (plan.kind === 'radix') throw new InputError('a mixed-radix factor is never part of a direct sum');
  const run = (node: FactorPlan & { kind: 'circuit' }, v: Float64Array) =>
    applyToStates(node.circuit, theta.subarray(node.offset, node.offset + node.circuit.params.length), v, b);
  if (plan.kind === 'circuit') {
    run(plan, x);
    return;
  }
  const d1 = plan.pre.dim;
  const d2 = plan.dim - d1;
  const top = x.subarray(0, d1 * b);
  const bottom = x.subarray(d1 * b, plan.dim * b);
  run(plan.pre, top);
  const c = Math.cos(theta[plan.mix]!);
  const s = Math.sin(theta[plan.mix]!);
  for (let i = 0; i < d2 * b; i++) {
    const t = top[i]!;
    const u = bottom[i]!;
    top[i] = c * t - s * u;
    bottom[i] = s * t + c * u;
  }
  run(plan.post, top);
  applyPlan64(plan.rest, theta, bottom, b);
}

/**
 * P = the factor's first K columns in float64 (d×K, row-major), computed block by block from the plan (the
 * reference the float32 tfjs path and the exported circuit are checked against).
 */
export function factorMatrix(plan: FactorPlan, theta: ArrayLike<number>, k: number): Matrix {
  if (!Number.isInteger(k) || k < 1 || k > plan.dim) {
    throw new InputError(
      `rank K must be an integer in 1..${plan.dim} (the factor's dimension), got ${describe(k)}`,
    );
  }
  const th = Float64Array.from(theta);
  if (plan.kind === 'radix') return subspaceColumns(plan.circuit, th, plan.rowBasis, k);
  if (plan.kind === 'circuit') {
    const u = columns(plan.circuit, th.subarray(plan.offset, plan.offset + plan.circuit.params.length), k);
    return { rows: plan.dim, cols: k, data: Float64Array.from(u.data) };
  }
  const x = new Float64Array(plan.dim * k);
  for (let j = 0; j < k; j++) x[j * k + j] = 1;
  applyPlan64(plan, th, x, k);
  return { rows: plan.dim, cols: k, data: x };
}

/** A template circuit's gates as controlled operations under `ctx`, with θ renamed to the factor's order. */
function nodeOps(node: FactorPlan & { kind: 'circuit' }, ctx: readonly Control[]): ControlledOp[] {
  const index = new Map(node.circuit.params.map((p, i) => [p, node.offset + i]));
  return node.circuit.gates.map((g: Gate): ControlledOp => {
    if (g.name === 'ry') {
      const a = g.angle;
      const angle = isParamAngle(a) ? param(thetaName(index.get(a.param)!), a.scale, a.offset) : a;
      return { kind: 'ry', target: g.wires[0], angle, controls: ctx };
    }
    if (g.name === 'cz') {
      return {
        kind: 'sign',
        controls: [...ctx, { wire: g.wires[0], value: 1 }, { wire: g.wires[1], value: 1 }],
      };
    }
    throw new UnsupportedGateError(
      `${node.label}: a direct-sum factor is written as one circuit from ry and cz gates only, got ${g.name}`,
    );
  });
}

/** The direct sum's gates as fully controlled operations, in time order (B, M(φ), A, the rest). */
function sumOps(plan: FactorPlan, ctx: readonly Control[]): ControlledOp[] {
  if (plan.kind === 'identity') return [];
  if (plan.kind === 'circuit') return nodeOps(plan, ctx);
  if (plan.kind === 'radix') throw new InputError('a mixed-radix factor is never part of a direct sum');
  const e = Math.log2(plan.pre.dim);
  const d2 = plan.dim - plan.pre.dim;
  const upper = [...ctx, { wire: e, value: 0 as const }];
  const ops = nodeOps(plan.pre, upper);
  // M(φ) = RY(2φ) on wire e for the pairs (j, 2^e + j) with j < d₂: j < d₂ iff for some 1-bit q of d₂, j
  // has 0 at q and agrees with d₂ above q (disjoint cases, one controlled rotation each)
  for (let q = e - 1; q >= 0; q--) {
    if (!((d2 >> q) & 1)) continue;
    const controls: Control[] = [...ctx, { wire: q, value: 0 }];
    for (let w = q + 1; w < e; w++) controls.push({ wire: w, value: ((d2 >> w) & 1) as 0 | 1 });
    ops.push({ kind: 'ry', target: e, angle: param(thetaName(plan.mix), 2), controls });
  }
  ops.push(...nodeOps(plan.post, upper));
  const restQubits = Math.ceil(Math.log2(d2));
  const lower: Control[] = [...ctx, { wire: e, value: 1 }];
  for (let w = restQubits; w < e; w++) lower.push({ wire: w, value: 0 });
  ops.push(...sumOps(plan.rest, lower));
  return ops;
}

/**
 * The whole factor as ONE circuit on ⌈log₂d⌉ qubits, its parameters `theta0…` in the factor's θ order, and
 * the register basis state of each row: P[r][c] = U[rowBasis[r]][rowBasis[c]] for c < K. A mixed-radix or
 * power-of-two factor is its circuit; a direct sum is flattened: every gate of a block is controlled on the
 * block's wires, the mixing rotation M(φ) on the rows that have a partner, controls that cannot matter on
 * the first d basis states are dropped, and the rest are lowered to ry/cx/x/z/cz (`circuit/controlled.ts`).
 * A d×d factor (d = 1) has no circuit (`InputError`).
 */
export function factorCircuit(plan: FactorPlan): { circuit: Circuit; rowBasis: Int32Array } {
  if (plan.kind === 'identity') throw new InputError('a 1×1 factor is the constant 1: it has no circuit');
  if (plan.kind === 'radix') return { circuit: plan.circuit, rowBasis: plan.rowBasis };
  if (plan.kind === 'circuit') return { circuit: plan.circuit, rowBasis: factorRowBasis(plan) };
  const qubits = factorQubits(plan);
  const dim = plan.dim;
  const inV = (i: number) => i < dim;
  const gates: Gate[] = [];
  for (const op of sumOps(plan, [])) {
    const simple = simplifyControls(op, inV, qubits);
    try {
      gates.push(...lowerControlled(simple, qubits));
    } catch (e) {
      if (e instanceof CircuitError) {
        throw new CircuitError(`the ${dim}-wide direct sum cannot be written as one circuit: ${e.message}`);
      }
      throw e;
    }
  }
  const count = countParams(plan);
  return {
    circuit: makeCircuit({ qubits, gates, params: Array.from({ length: count }, (_, i) => thetaName(i)) }),
    rowBasis: factorRowBasis(plan),
  };
}

function countParams(plan: FactorPlan): number {
  if (plan.kind === 'identity') return 0;
  if (plan.kind === 'circuit' || plan.kind === 'radix') return plan.offset + plan.circuit.params.length;
  return Math.max(countParams(plan.pre), plan.mix + 1, countParams(plan.post), countParams(plan.rest));
}
