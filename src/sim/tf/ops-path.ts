/**
 * The circuit computed with tfjs ops, so that tfjs autodiff differentiates it and any tfjs backend (wasm,
 * cpu, WebGL/WebGPU, tfjs-node) runs it.
 *
 * A batch of S states of dimension N with K columns is a tensor [S, N, K] (row i = basis index i, bit order
 * of `circuit/bit-order.ts`: wire 0 = least significant bit). Reshaped to [S, N / 2^(w+1), 2, 2^w·K], axis 2
 * is the bit of wire w, so a one-qubit gate on wire w acts along that axis only:
 *
 * - RY(t), X, H: the wire's axis is moved next to the batch axis (a transpose; none for the top wire) and one
 *   batched matMul [S, 2, 2] × [S, 2, N·K/2] applies the gate to every batch entry: (a·s0 − b·s1, b·s0 + a·s1)
 *   for RY. All ops have gradients on every backend; `einsum` (no gradient in tfjs) and `gather` (no
 *   gradient on wasm) are avoided on purpose, and so is `reverse`, which is slow on wasm (measured about 25 ns
 *   per element, over ten times a transpose).
 * - CZ and Z: a ±1 row mask; consecutive diagonal gates are fused into one mask.
 * - CX, SWAP: X on a wire combined with row masks.
 *
 * Angles come from θ by a matMul with a constant selection matrix (gate angle = scale·θ[p] + offset), which
 * keeps the gradient path free of `gather`.
 */
import type { Circuit } from '../../circuit/ir.ts';
import { describe, InputError, UnsupportedGateError } from '../../errors.ts';
import { tf } from '../../tf/backend.ts';
import { assertCapacity } from '../capacity.ts';
import { compile, OP, type Program } from '../program.ts';

type Step =
  | { readonly kind: 'ry'; readonly wire: number; readonly index: number }
  | { readonly kind: 'diag'; readonly signs: Float32Array }
  | { readonly kind: 'x' | 'h'; readonly wire: number }
  | { readonly kind: 'cx'; readonly control: number; readonly target: number }
  | { readonly kind: 'swap'; readonly a: number; readonly b: number };

/** A circuit prepared for the ops path: plain arrays only (tensors are made per call, inside `tidy`). */
interface OpsPlan {
  readonly qubits: number;
  readonly dim: number;
  readonly nParams: number;
  /** Number of RY gates. */
  readonly nRy: number;
  readonly steps: readonly Step[];
  /** [nParams, nRy] row-major: ∂(angle of RY r)/∂θ[p]. */
  readonly select: Float32Array;
  /** [nRy]: the constant part of each RY's angle. */
  readonly offset: Float32Array;
}

const plans = new WeakMap<Circuit, OpsPlan>();

function refuse(prog: Program, g: number): never {
  const name = prog.circuit.gates[g]!.name;
  throw new UnsupportedGateError(
    `gate ${g} (${name}) is complex; the tfjs ops path applies only the real gates ry, cz, cx, x, z, h, swap, got ${name}`,
  );
}

function planFor(circuit: Circuit): OpsPlan {
  const hit = plans.get(circuit);
  if (hit) return hit;
  const prog = compile(circuit);
  const dim = prog.dim;
  const steps: Step[] = [];
  const rySelect: { p: number; scale: number; offset: number }[] = [];
  let signs: Float32Array | undefined;
  const flush = () => {
    if (signs) steps.push({ kind: 'diag', signs });
    signs = undefined;
  };
  const negate = (mask: number) => {
    signs ??= new Float32Array(dim).fill(1);
    for (let i = 0; i < dim; i++) if ((i & mask) === mask) signs[i] = -signs[i]!;
  };
  for (let g = 0; g < prog.nGates; g++) {
    const a = prog.w0[g]!;
    const b = prog.w1[g]!;
    switch (prog.code[g]) {
      case OP.cz:
        negate((1 << a) | (1 << b));
        continue;
      case OP.z:
        negate(1 << a);
        continue;
      case OP.rx:
      case OP.rz:
        refuse(prog, g);
    }
    flush();
    switch (prog.code[g]) {
      case OP.ry:
        steps.push({ kind: 'ry', wire: a, index: rySelect.length });
        rySelect.push({ p: prog.pIndex[g]!, scale: prog.scale[g]!, offset: prog.offset[g]! });
        break;
      case OP.x:
        steps.push({ kind: 'x', wire: a });
        break;
      case OP.h:
        steps.push({ kind: 'h', wire: a });
        break;
      case OP.cx:
        steps.push({ kind: 'cx', control: a, target: b });
        break;
      case OP.swap:
        steps.push({ kind: 'swap', a, b });
        break;
      default:
        refuse(prog, g);
    }
  }
  flush();
  const nRy = rySelect.length;
  const select = new Float32Array(prog.nParams * nRy);
  const offset = new Float32Array(nRy);
  rySelect.forEach(({ p, scale, offset: o }, r) => {
    if (p >= 0) select[p * nRy + r] = scale;
    offset[r] = o;
  });
  const plan: OpsPlan = { qubits: prog.qubits, dim, nParams: prog.nParams, nRy, steps, select, offset };
  plans.set(circuit, plan);
  return plan;
}

/** 1 where bit `wire` of the row index is set: a [1, N, 1] mask. */
function bitMask(dim: number, wire: number): tf.Tensor3D {
  const m = new Float32Array(dim);
  for (let i = 0; i < dim; i++) if ((i >> wire) & 1) m[i] = 1;
  return tf.tensor3d(m, [1, dim, 1]);
}

/**
 * Apply the 2×2 matrices `m` ([S, 2, 2], one per batch entry) on wire `w` of x ([S, N, K]): the wire's axis
 * is moved next to the batch axis and one batched matMul does the work. (Both operands carry the full batch:
 * tfjs's gradient of a broadcast batched matMul is broken.)
 */
function onWire(x: tf.Tensor, m: tf.Tensor, dim: number, k: number, w: number): tf.Tensor {
  const s = x.shape[0]!;
  const hi = dim >> (w + 1);
  const lo = (1 << w) * k;
  if (hi === 1) return tf.matMul(m as tf.Tensor3D, x.reshape([s, 2, lo]) as tf.Tensor3D).reshape([s, dim, k]);
  const t = x
    .reshape([s, hi, 2, lo])
    .transpose([0, 2, 1, 3])
    .reshape([s, 2, hi * lo]);
  return tf
    .matMul(m as tf.Tensor3D, t as tf.Tensor3D)
    .reshape([s, 2, hi, lo])
    .transpose([0, 2, 1, 3])
    .reshape([s, dim, k]);
}

/** A constant 2×2 matrix (row-major) for every batch entry: [S, 2, 2]. */
function constant2x2(values: readonly number[], batch: number): tf.Tensor {
  return tf.tile(tf.tensor3d(values as number[], [1, 2, 2]), [batch, 1, 1]);
}

const X_MATRIX = [0, 1, 1, 0];
const H_MATRIX = [Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, -Math.SQRT1_2];

function checkColumns(plan: OpsPlan, k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > plan.dim) {
    throw new InputError(
      `columns K must be an integer in 1..${plan.dim} (2^${plan.qubits}), got ${describe(k)}`,
    );
  }
}

/**
 * The first K columns of the circuit's matrix for each of S parameter sets: `thetas` is [S, P] (P =
 * `circuit.params.length`, template order), the result [S, N, K] float32, differentiable with respect to
 * `thetas` by tfjs autodiff. Real gates only (`UnsupportedGateError` otherwise). Intermediate tensors are
 * released; the caller owns (and disposes) the result.
 */
export function tfColumnsBatch(
  circuit: Circuit,
  thetas: tf.Tensor2D,
  k: number = 2 ** circuit.qubits,
): tf.Tensor3D {
  const plan = planFor(circuit);
  checkColumns(plan, k);
  if (thetas.rank !== 2 || thetas.shape[1] !== plan.nParams || thetas.shape[0] < 1) {
    throw new InputError(
      `thetas must be a [S, ${plan.nParams}] tensor with S ≥ 1 (one row of ${plan.nParams} angles per parameter set), got shape [${thetas.shape.join(', ')}]`,
    );
  }
  if (thetas.dtype !== 'float32') throw new InputError(`thetas must be float32, got ${thetas.dtype}`);
  const S = thetas.shape[0];
  const { dim, nRy } = plan;
  assertCapacity(plan.qubits, S * k, 'float32', 3);
  return tf.tidy(() => {
    let rotations: tf.Tensor[] = [];
    if (nRy > 0) {
      const offset = tf.tensor2d(plan.offset, [1, nRy]);
      const angles =
        plan.nParams > 0
          ? tf.matMul(thetas, tf.tensor2d(plan.select, [plan.nParams, nRy])).add(offset)
          : offset.tile([S, 1]);
      const half = angles.mul(0.5).transpose(); // [nRy, S]
      const c = tf.cos(half);
      const sn = tf.sin(half);
      // RY(t) = [[c, −s], [s, c]] for every gate and batch entry: [nRy, S, 2, 2]
      const all = tf.stack([c, sn.neg(), sn, c], 2).reshape([nRy, S, 2, 2]);
      // (Unpack's gradient breaks on a single output, so one RY takes the tensor whole.)
      rotations = nRy === 1 ? [all.reshape([S, 2, 2])] : tf.unstack(all);
    }
    // The identity's first K columns for every batch entry.
    let x: tf.Tensor = tf.tile(tf.eye(dim, k).reshape([1, dim, k]), [S, 1, 1]);
    const xMatrix = plan.steps.some((st) => st.kind === 'x' || st.kind === 'cx' || st.kind === 'swap')
      ? constant2x2(X_MATRIX, S)
      : undefined;
    const flipWire = (wire: number) => onWire(x, xMatrix!, dim, k, wire);
    for (const step of plan.steps) {
      switch (step.kind) {
        case 'ry':
          x = onWire(x, rotations[step.index]!, dim, k, step.wire);
          break;
        case 'diag':
          x = x.mul(tf.tensor3d(step.signs, [1, dim, 1]));
          break;
        case 'x':
          x = flipWire(step.wire);
          break;
        case 'h':
          x = onWire(x, constant2x2(H_MATRIX, S), dim, k, step.wire);
          break;
        case 'cx':
          // rows with the control set take the row with the target flipped
          x = x.add(flipWire(step.target).sub(x).mul(bitMask(dim, step.control)));
          break;
        case 'swap': {
          // rows whose two bits differ take the row with both flipped
          const flipped = onWire(flipWire(step.a), xMatrix!, dim, k, step.b);
          const differ = bitMask(dim, step.a).sub(bitMask(dim, step.b)).abs();
          x = x.add(flipped.sub(x).mul(differ));
          break;
        }
      }
    }
    return x as tf.Tensor3D;
  });
}

/**
 * The first K columns of the circuit's matrix, [N, K] float32, for θ = `theta` ([P], template order);
 * differentiable with respect to `theta` by tfjs autodiff (`tf.grad`, optimizers). The caller owns the result.
 */
export function tfColumns(
  circuit: Circuit,
  theta: tf.Tensor1D,
  k: number = 2 ** circuit.qubits,
): tf.Tensor2D {
  if (theta.rank !== 1) {
    throw new InputError(
      `theta must be a 1-D tensor of ${circuit.params.length} angles, got shape [${theta.shape.join(', ')}]`,
    );
  }
  return tf.tidy(() => {
    const u = tfColumnsBatch(circuit, theta.expandDims(0) as tf.Tensor2D, k);
    return u.reshape([u.shape[1], u.shape[2]]) as tf.Tensor2D;
  });
}
