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
 * (`directSumParamCount`). Mixed radix (qudits) is not implemented: a qutrit's SO(3) is cheap but 1000 =
 * 2³·5³ would need SO(125) blocks, while the direct sum stays logarithmic for every d.
 */
import type { Circuit } from '../circuit/ir.ts';
import { complexGates } from '../circuit/ir.ts';
import { getTemplate, type TemplateName } from '../circuit/templates/index.ts';
import { describe, InputError, UnsupportedGateError } from '../errors.ts';
import { applyCircuit, circuitColumns } from '../sim/tf/bridge.ts';
import { tfColumns } from '../sim/tf/ops-path.ts';
import { tf } from '../tf/backend.ts';

/** How a circuit's matrix enters tfjs: the kernel bridge (adjoint VJP) or the tfjs-ops statevector path. */
export type ColumnsPath = 'kernel' | 'ops';

/** A direct-sum node or a single circuit, with offsets into the factor's flat θ. */
export type FactorPlan =
  | { readonly kind: 'identity'; readonly dim: 1 }
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

/** Where a factor's circuits come from: a template with layers, or one fixed circuit (power-of-two d). */
export type CircuitSource =
  | { readonly template: TemplateName; readonly layers: number }
  | { readonly circuit: Circuit };

const isPow2 = (d: number) => d >= 1 && (d & (d - 1)) === 0;

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
  if (plan.kind === 'circuit') {
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
