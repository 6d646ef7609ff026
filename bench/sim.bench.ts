/**
 * The simulator benchmark of issue 2: build U (N×K, the circuit's first K columns) and its VJP
 * (U and ∂⟨G, U⟩/∂θ) for the simplified two-design at several (n, L, K), with
 *
 * - ours: the typed-array kernels (`columns`, and `vjp` by the adjoint method) in float64 and float32;
 * - tfjs-ops: the same circuit as tfjs ops on the wasm backend (`tfColumns`; the VJP by `tf.valueAndGrad`
 *   of ⟨G, U⟩, the columns read back as well), float32;
 * - quantum-circuit (n ≤ 8): K calls of `run()`, one per basis state |k⟩ (set by X gates through `run`'s
 *   initial values), each state read back as a column; its VJP by the parameter-shift rule, 2P + 1 such
 *   builds of U. A figure whose estimate exceeds ~30 s is printed as "skipped".
 *
 * A second table runs S parameter sets at once: `tfColumnsBatch` ([S, P] → [S, N, K], one graph for the
 * whole batch) against S calls of ours.
 *
 * Times are medians in ms, all measured in this one run. Ratios: tfjs-ops / ours float32 (both float32) and
 * quantum-circuit / ours float64 (both double precision). `err` is the largest deviation of each other
 * path's U (row U) or gradient (row U+VJP) from ours in float64: every path computes the same thing.
 */
import { performance } from 'node:perf_hooks';
import { type Circuit, simplifiedTwoDesign } from '../src/circuit/index.ts';
import { toQuantumCircuit } from '../src/interop/quantum-circuit.ts';
import { columns, vjp } from '../src/sim/index.ts';
import { tfColumns, tfColumnsBatch } from '../src/sim/tf/index.ts';
import { initBackend, tf } from '../src/tf/backend.ts';
import { createRng } from '../src/util/random.ts';
import { timeMs } from './timing.ts';

const SHAPES: readonly [n: number, L: number, K: number][] = [
  [6, 2, 8],
  [8, 2, 8],
  [10, 2, 8],
  [12, 2, 8],
  [10, 4, 16],
];
/** quantum-circuit is run for n ≤ this, and a figure estimated above the budget is skipped. */
const QC_MAX_QUBITS = 8;
const QC_BUDGET_MS = 30_000;
/** Batched table: S parameter sets at once (expressivity sampling, many adapters). */
const BATCH_SHAPES: readonly [n: number, L: number, K: number, S: number][] = [
  [6, 2, 8, 64],
  [8, 2, 8, 64],
  [10, 2, 8, 64],
];

type QcState = Record<string, { re: number; im: number } | undefined>;

/** U's first K columns by quantum-circuit: one `run()` per basis state; real parts, row-major N×K. */
function qcColumns(circuit: Circuit, theta: ArrayLike<number>, k: number): Float64Array {
  const n = circuit.qubits;
  const dim = 2 ** n;
  const qc = toQuantumCircuit(circuit, Array.from(theta));
  const out = new Float64Array(dim * k);
  for (let j = 0; j < k; j++) {
    qc.run(Array.from({ length: n }, (_, w) => (j >> w) & 1));
    const state = (qc as unknown as { state: QcState }).state;
    for (const [index, amp] of Object.entries(state)) if (amp) out[Number(index) * k + j] = amp.re;
  }
  return out;
}

/**
 * ∂⟨G, U⟩/∂θ by the parameter-shift rule on quantum-circuit. ⟨G, U⟩ is linear in U, so the amplitude rule
 * [f(t + π) − f(t − π)]/4 applies (see sim/parameter-shift.ts); every template parameter drives one RY
 * with scale 1, so shifting θ_p shifts that gate's angle.
 */
function qcVjp(circuit: Circuit, theta: Float64Array, g: Float64Array, k: number): Float64Array {
  const dot = (u: Float64Array) => u.reduce((acc, v, i) => acc + v * g[i]!, 0);
  qcColumns(circuit, theta, k);
  const grad = new Float64Array(theta.length);
  const shifted = theta.slice();
  for (let p = 0; p < theta.length; p++) {
    shifted[p] = theta[p]! + Math.PI;
    const plus = dot(qcColumns(circuit, shifted, k));
    shifted[p] = theta[p]! - Math.PI;
    const minus = dot(qcColumns(circuit, shifted, k));
    shifted[p] = theta[p]!;
    grad[p] = (plus - minus) / 4;
  }
  return grad;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}

const fmt = (ms: number | undefined): string =>
  ms === undefined ? 'skipped' : ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0);
const ratio = (a: number | undefined, b: number): string =>
  a === undefined ? '-' : `${(a / b).toFixed(a / b < 10 ? 1 : 0)}×`;

export default async function simBench(): Promise<void> {
  const backend = await initBackend('wasm');
  console.log(
    `simplified two-design, U = first K columns; ours = typed-array kernels; tfjs-ops on ${backend} (float32);\n` +
      'quantum-circuit: K × run() from basis states, VJP by parameter shift (2P+1 builds of U). Median ms.',
  );
  const header = [
    'n',
    'L',
    'K',
    'P',
    'what',
    'ours f64',
    'ours f32',
    'tfjs-ops',
    'q-circuit',
    'tfjs/f32',
    'qc/f64',
    'err',
  ];
  const rows: string[][] = [];
  for (const [n, L, K] of SHAPES) {
    const circuit = simplifiedTwoDesign(n, L);
    const P = circuit.params.length;
    const dim = 2 ** n;
    const rng = createRng(1000 * n + 10 * L + K);
    const theta = Float64Array.from({ length: P }, () => (rng.next() * 2 - 1) * Math.PI);
    const g64 = Float64Array.from({ length: dim * K }, () => rng.normal());
    const g32 = Float32Array.from(g64);
    const G64 = { rows: dim, cols: K, data: g64 };
    const G32 = { rows: dim, cols: K, data: g32 };
    const gTensor = tf.tensor2d(g32, [dim, K]);

    const reference = columns(circuit, theta, K).data;
    const f64 = await timeMs(() => columns(circuit, theta, K, { dtype: 'float64' }));
    const f32 = await timeMs(() => columns(circuit, theta, K, { dtype: 'float32' }));
    const b64 = await timeMs(() => vjp(circuit, theta, G64, { dtype: 'float64' }));
    const b32 = await timeMs(() => vjp(circuit, theta, G32, { dtype: 'float32' }));

    const tfForward = () =>
      tf.tidy(() => tfColumns(circuit, tf.tensor1d(Float32Array.from(theta)), K).dataSync() as Float32Array);
    const tfVjp = () =>
      tf.tidy(() => {
        const f = (t: tf.Tensor1D) => {
          const u = tfColumns(circuit, t, K);
          u.dataSync(); // U is an output of the VJP as well
          return tf.sum(tf.mul(u, gTensor));
        };
        return tf
          .valueAndGrad(f)(tf.tensor1d(Float32Array.from(theta)))
          .grad.dataSync();
      });
    const tfF = await timeMs(tfForward);
    const tfB = await timeMs(tfVjp);
    const tfErr = maxAbsDiff(tfForward(), reference);
    const tfGradErr = maxAbsDiff(tfVjp(), vjp(circuit, theta, G64).grad);

    let qcF: number | undefined;
    let qcB: number | undefined;
    let qcErr = Number.NaN;
    let qcGradErr = Number.NaN;
    if (n <= QC_MAX_QUBITS) {
      qcF = await timeMs(() => qcColumns(circuit, theta, K), { warmup: 1, minRuns: 3, maxRuns: 5, minMs: 0 });
      qcErr = maxAbsDiff(qcColumns(circuit, theta, K), reference);
      if ((2 * P + 1) * qcF <= QC_BUDGET_MS) {
        const t0 = performance.now();
        const grad = qcVjp(circuit, theta, g64, K);
        qcB = performance.now() - t0; // one run: a median would take minutes
        qcGradErr = maxAbsDiff(grad, vjp(circuit, theta, G64).grad);
      }
    }
    gTensor.dispose();

    const e = (x: number) => (Number.isNaN(x) ? '' : x.toExponential(0));
    const base = [String(n), String(L), String(K), String(P)];
    rows.push([
      ...base,
      'U',
      fmt(f64),
      fmt(f32),
      fmt(tfF),
      n <= QC_MAX_QUBITS ? fmt(qcF) : '-',
      ratio(tfF, f32),
      ratio(qcF, f64),
      `tf ${e(tfErr)}${n <= QC_MAX_QUBITS ? ` qc ${e(qcErr)}` : ''}`,
    ]);
    rows.push([
      ...base,
      'U+VJP',
      fmt(b64),
      fmt(b32),
      fmt(tfB),
      n <= QC_MAX_QUBITS ? fmt(qcB) : '-',
      ratio(tfB, b32),
      ratio(qcB, b64),
      `tf ${e(tfGradErr)}${qcB === undefined ? '' : ` qc ${e(qcGradErr)}`}`,
    ]);
  }
  printTable(header, rows);
  await batchBench();
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** S parameter sets at once: tfjs-ops batched against S calls of ours (float32 both). */
async function batchBench(): Promise<void> {
  console.log(
    '\nS parameter sets at once: ours = S calls (float32); tfjs-ops = one tfColumnsBatch graph. Median ms.',
  );
  const header = ['n', 'L', 'K', 'S', 'what', 'ours f32', 'tfjs-ops', 'tfjs/f32'];
  const rows: string[][] = [];
  for (const [n, L, K, S] of BATCH_SHAPES) {
    const circuit = simplifiedTwoDesign(n, L);
    const P = circuit.params.length;
    const dim = 2 ** n;
    const rng = createRng(7 * n + S);
    const thetas = Float32Array.from({ length: S * P }, () => (rng.next() * 2 - 1) * Math.PI);
    const g = Float32Array.from({ length: S * dim * K }, () => rng.normal());
    const gTensor = tf.tensor3d(g, [S, dim, K]);
    const sets = Array.from({ length: S }, (_, s) => thetas.subarray(s * P, (s + 1) * P));
    const ups = sets.map((_, s) => ({
      rows: dim,
      cols: K,
      data: g.subarray(s * dim * K, (s + 1) * dim * K),
    }));
    const oursF = await timeMs(() => {
      for (const th of sets) columns(circuit, th, K, { dtype: 'float32' });
    });
    const oursB = await timeMs(() => {
      for (let s = 0; s < S; s++) vjp(circuit, sets[s]!, ups[s]!, { dtype: 'float32' });
    });
    const tfF = await timeMs(() =>
      tf.tidy(() => tfColumnsBatch(circuit, tf.tensor2d(thetas, [S, P]), K).dataSync()),
    );
    const tfB = await timeMs(() =>
      tf.tidy(() => {
        const f = (t: tf.Tensor) => {
          const u = tfColumnsBatch(circuit, t as tf.Tensor2D, K);
          u.dataSync();
          return tf.sum(tf.mul(u, gTensor));
        };
        return tf
          .valueAndGrad(f)(tf.tensor2d(thetas, [S, P]))
          .grad.dataSync();
      }),
    );
    gTensor.dispose();
    const base = [String(n), String(L), String(K), String(S)];
    rows.push([...base, 'U', fmt(oursF), fmt(tfF), ratio(tfF, oursF)]);
    rows.push([...base, 'U+VJP', fmt(oursB), fmt(tfB), ratio(tfB, oursB)]);
  }
  printTable(header, rows);
}
