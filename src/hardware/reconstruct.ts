/**
 * Reconstruction: counts → each column's amplitudes → P̂ (K orthonormal columns) → ΔŴ and an adapter.
 *
 * Per column k of a factor on n qubits (N = 2^n):
 * 1. magnitudes |U_jk| = √p̂_z(j) from the `z` setting;
 * 2. for each wire w and each pair (j, j ⊕ 2^w) with bit w of j clear, the product
 *    U_jk·U_{j⊕2^w,k} = (p̂_w(j) − p̂_w(j ⊕ 2^w))/2 from setting w (see measurement.ts);
 * 3. signs: a maximum spanning tree of the hypercube (vertices = basis indices, an edge per pair of 2), with
 *    edge weight √p̂_z(i)·√p̂_z(i'), the magnitude of the product the edge's sign is read from (the most
 *    reliable signs first), grown by Prim's algorithm from the plan's reference entry, whose sign the plan
 *    fixes (a state's global sign is unobservable). Each tree edge copies its parent's sign times the sign of
 *    the measured product.
 * A factor whose width d is not a power of two (plan.ts) lives on the d register states `rowBasis`: the tree
 * spans only those vertices (they are connected by one-bit steps, checked when the plan is read), the raw
 * estimate keeps only those rows (d×K, in P's row order), and the probability the z setting puts outside them
 * (zero without noise) is reported per factor as leakage.
 * The raw estimate V (d×K, entries sign·magnitude) is not exactly orthonormal. P̂ is its polar factor,
 * P̂ = V·(VᵀV)^(−1/2) (Löwdin orthonormalisation): the orthonormal matrix nearest to V in Frobenius norm,
 * which treats all columns alike (Gram–Schmidt would favour the first). ‖VᵀV − I‖_F is reported.
 *
 * Reports: per factor the fidelity ‖P̂ᵀP‖_F²/K (1 when P̂ spans P's columns, 1/N·K-ish for a random frame) and
 * each column's overlap p̂_kᵀp_k (signed: a wrong column sign shows as −1); per adapted layer the relative
 * error ‖ΔŴ − ΔW‖_F/‖ΔW‖_F, computed from K×K Gram matrices without forming ΔW.
 */
import path from 'node:path';
import { makeCircuit } from '../circuit/ir.ts';
import { CountsError, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { encodeSafetensors } from '../io/safetensors.ts';
import { CONFIG_FILE, WEIGHTS_FILE } from '../peft/serialize.ts';
import { subspaceColumns } from '../sim/simulate.ts';
import { gram } from '../util/matrix.ts';
import { checkComplete, type Histogram } from './counts.ts';
import { settingLabel } from './measurement.ts';
import type { MeasurementPlan, PlanFactor } from './plan.ts';

/** The reconstruction of one factor. */
export interface FactorEstimate {
  readonly id: string;
  readonly layer: string | null;
  readonly factor: 'P' | 'Q' | null;
  readonly qubits: number;
  /** d: the rows of P (2^qubits unless the width is not a power of two). */
  readonly dim: number;
  /** The re-orthonormalised estimate P̂, row-major d×K (rows in P's order, see the plan's rowBasis). */
  readonly estimate: Float64Array;
  /** The raw estimate V before orthonormalisation, row-major d×K. */
  readonly raw: Float64Array;
  /** The true columns P under the plan's angles, row-major d×K. */
  readonly truth: Float64Array;
  readonly columns: number;
  /** The mean over columns of the z setting's measured probability outside the factor's rows (0 for 2^n). */
  readonly leakage: number;
  /** ‖VᵀV − I‖_F of the raw estimate. */
  readonly rawOrthonormalityError: number;
  /** ‖P̂ᵀP‖_F² / K. */
  readonly fidelity: number;
  /** p̂_kᵀ p_k per column. */
  readonly columnOverlaps: readonly number[];
  /** ‖P̂ − P‖_F. */
  readonly frobeniusError: number;
  /** Shots used per circuit (the least over the factor's circuits). */
  readonly minShots: number;
}

/** A layer's ΔW comparison. */
export interface LayerEstimate {
  readonly name: string;
  /** ‖ΔŴ − ΔW‖_F / ‖ΔW‖_F (null when ΔW = 0, e.g. λ = 0). */
  readonly relativeError: number | null;
  readonly absoluteError: number;
  readonly norm: number;
}

/** Everything a reconstruction produced. */
export interface Reconstruction {
  readonly factors: readonly FactorEstimate[];
  readonly layers: readonly LayerEstimate[];
}

/** Symmetric eigen-decomposition of a small matrix (cyclic Jacobi): eigenvalues and column eigenvectors. */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i]!;
  return { values, vectors: v };
}

/**
 * The polar factor V·(VᵀV)^(−1/2) of a row-major N×K matrix; throws `CountsError` when V's columns are
 * numerically dependent (then no orthonormal frame is determined).
 */
export function polarFactor(v: Float64Array, rows: number, k: number, what = 'estimate'): Float64Array {
  const g = gram({ rows, cols: k, data: v });
  const { values, vectors } = symmetricEigen(g, k);
  const maxEig = Math.max(...values);
  const inv = new Float64Array(k * k);
  for (let e = 0; e < k; e++) {
    const lam = values[e]!;
    if (!(lam > 1e-10 * Math.max(1, maxEig))) {
      throw new CountsError(
        `${what}: the raw columns are linearly dependent (Gram eigenvalue ${lam.toExponential(2)}), so no orthonormal estimate exists; more shots are needed`,
      );
    }
    const s = 1 / Math.sqrt(lam);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        inv[i * k + j] = inv[i * k + j]! + vectors[i * k + e]! * s * vectors[j * k + e]!;
  }
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += v[r * k + i]! * inv[i * k + j]!;
      out[r * k + j] = acc;
    }
  }
  return out;
}

/** A binary max-heap of (weight, vertex, parent, wire) for Prim's algorithm. */
class MaxHeap {
  private w: number[] = [];
  private item: number[][] = [];
  get size(): number {
    return this.w.length;
  }
  push(weight: number, entry: number[]): void {
    this.w.push(weight);
    this.item.push(entry);
    let i = this.w.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.w[p]! >= this.w[i]!) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): number[] {
    const top = this.item[0]!;
    const lw = this.w.pop()!;
    const li = this.item.pop()!;
    if (this.w.length) {
      this.w[0] = lw;
      this.item[0] = li;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.w.length && this.w[l]! > this.w[m]!) m = l;
        if (r < this.w.length && this.w[r]! > this.w[m]!) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
  private swap(a: number, b: number): void {
    [this.w[a], this.w[b]] = [this.w[b]!, this.w[a]!];
    [this.item[a], this.item[b]] = [this.item[b]!, this.item[a]!];
  }
}

/**
 * One column's raw estimate (2^n register amplitudes) from its z histogram and per-wire histograms:
 * magnitudes, then signs grown over a maximum spanning tree of the hypercube from `root` (whose sign is
 * `rootSign`). With `rows` (a factor's row map), the tree spans only those basis states and every other
 * entry is 0.
 */
export function estimateColumn(
  qubits: number,
  z: Histogram,
  wires: readonly Histogram[],
  root: number,
  rootSign: 1 | -1,
  rows?: ArrayLike<number>,
): Float64Array {
  const dim = 2 ** qubits;
  const total = (h: Histogram) => {
    let t = 0;
    for (const c of h.values()) t += c;
    return t;
  };
  const zt = total(z);
  const mag = new Float64Array(dim);
  for (const [i, c] of z) mag[i] = Math.sqrt(c / zt);
  const wt = wires.map(total);
  const product = (i: number, w: number): number => {
    const h = wires[w]!;
    const lo = i & ~(1 << w);
    const hi = lo | (1 << w);
    return ((h.get(lo) ?? 0) - (h.get(hi) ?? 0)) / (2 * wt[w]!);
  };
  const allowed = new Uint8Array(dim);
  if (rows) for (let r = 0; r < rows.length; r++) allowed[rows[r]!] = 1;
  else allowed.fill(1);
  if (!allowed[root]) {
    throw new InputError(`the sign reference (basis state ${root}) is not one of the factor's rows`);
  }
  const sign = new Int8Array(dim);
  sign[root] = rootSign;
  const heap = new MaxHeap();
  const visit = (u: number) => {
    for (let w = 0; w < qubits; w++) {
      const v = u ^ (1 << w);
      if (allowed[v] && sign[v] === 0) heap.push(mag[u]! * mag[v]!, [v, u, w]);
    }
  };
  visit(root);
  while (heap.size) {
    const [v, u, w] = heap.pop() as [number, number, number];
    if (sign[v] !== 0) continue;
    sign[v] = (sign[u]! * (product(u, w) < 0 ? -1 : 1)) as 1 | -1;
    visit(v);
  }
  const out = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    if (!allowed[i]) continue;
    // readPlan checks that the rows are connected, so every allowed vertex has its sign by now
    if (sign[i] === 0) throw new InputError(`basis state ${i} is not connected to the sign reference`);
    out[i] = sign[i]! * mag[i]!;
  }
  return out;
}

function frob2(a: Float64Array): number {
  let s = 0;
  for (const x of a) s += x * x;
  return s;
}

/** Estimate one factor from the plan's counts. */
export function reconstructFactor(f: PlanFactor, counts: ReadonlyMap<string, Histogram>): FactorEstimate {
  const n = f.qubits;
  const rows = f.rowBasis;
  const dim = rows.length;
  const k = f.columns;
  const raw = new Float64Array(dim * k);
  let minShots = Number.POSITIVE_INFINITY;
  const get = (column: number, setting: 'z' | number): Histogram => {
    const id = `${f.id}.c${column}.${settingLabel(setting)}`;
    const h = counts.get(id);
    if (!h) throw new CountsError(`no counts for plan circuit ${id}`, id);
    let t = 0;
    for (const c of h.values()) t += c;
    minShots = Math.min(minShots, t);
    return h;
  };
  const inRows = new Set(rows);
  let leakage = 0;
  for (let col = 0; col < k; col++) {
    const ref = f.signs.find((s) => s.column === col);
    if (!ref) throw new InputError(`plan factor ${f.id} has no sign reference for column ${col}`);
    const z = get(col, 'z');
    let outside = 0;
    let total = 0;
    for (const [i, c] of z) {
      total += c;
      if (!inRows.has(i)) outside += c;
    }
    leakage += outside / total / k;
    const v = estimateColumn(
      n,
      z,
      Array.from({ length: n }, (_, w) => get(col, w)),
      ref.index,
      ref.sign,
      rows,
    );
    for (let r = 0; r < dim; r++) raw[r * k + col] = v[rows[r]!]!;
  }
  const g = gram({ rows: dim, cols: k, data: raw });
  let orth = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) orth += (g[i * k + j]! - (i === j ? 1 : 0)) ** 2;
  const estimate = polarFactor(raw, dim, k, `factor ${f.id}`);
  const truth = subspaceColumns(makeCircuit(f.circuit), undefined, rows, k).data as Float64Array;
  const cross = gram({ rows: dim, cols: k, data: estimate }, { rows: dim, cols: k, data: truth });
  const diff = new Float64Array(dim * k);
  for (let i = 0; i < diff.length; i++) diff[i] = estimate[i]! - truth[i]!;
  return {
    id: f.id,
    layer: f.layer,
    factor: f.factor,
    qubits: n,
    dim,
    estimate,
    raw,
    truth,
    columns: k,
    leakage,
    rawOrthonormalityError: Math.sqrt(orth),
    fidelity: frob2(cross) / k,
    columnOverlaps: Array.from({ length: k }, (_, i) => cross[i * k + i]!),
    frobeniusError: Math.sqrt(frob2(diff)),
    minShots,
  };
}

/** ‖α(A·diag(λ)·Bᵀ − C·diag(λ)·Dᵀ)‖_F via K×K Gram matrices: with L = [A, C], R = [Bλ, −Dλ], ‖LRᵀ‖² = tr(LᵀL·RᵀR). */
function lowRankDiffNorm(
  a: Float64Array,
  b: Float64Array,
  c: Float64Array | null,
  d: Float64Array | null,
  lambda: readonly number[],
  rowsL: number,
  rowsR: number,
  k: number,
): number {
  const kk = c ? 2 * k : k;
  const L = new Float64Array(rowsL * kk);
  const R = new Float64Array(rowsR * kk);
  for (let r = 0; r < rowsL; r++) {
    for (let j = 0; j < k; j++) {
      L[r * kk + j] = a[r * k + j]!;
      if (c) L[r * kk + k + j] = c[r * k + j]!;
    }
  }
  for (let r = 0; r < rowsR; r++) {
    for (let j = 0; j < k; j++) {
      R[r * kk + j] = b[r * k + j]! * lambda[j]!;
      if (d) R[r * kk + k + j] = -d[r * k + j]! * lambda[j]!;
    }
  }
  const gl = gram({ rows: rowsL, cols: kk, data: L });
  const gr = gram({ rows: rowsR, cols: kk, data: R });
  let tr = 0;
  for (let i = 0; i < kk; i++) for (let j = 0; j < kk; j++) tr += gl[i * kk + j]! * gr[j * kk + i]!;
  return Math.sqrt(Math.max(0, tr));
}

/** Reconstruct every factor and layer of a plan from its counts (every plan circuit must have counts). */
export function reconstruct(plan: MeasurementPlan, counts: ReadonlyMap<string, Histogram>): Reconstruction {
  checkComplete(plan, counts);
  const factors = plan.factors.map((f) => reconstructFactor(f, counts));
  const byId = new Map(factors.map((f) => [f.id, f]));
  const layers = plan.layers.map((l) => {
    const p = byId.get(l.p)!;
    const q = byId.get(l.q)!;
    const k = p.columns;
    const abs =
      Math.abs(l.alpha) *
      lowRankDiffNorm(p.estimate, q.estimate, p.truth, q.truth, l.lambda, p.dim, q.dim, k);
    const norm = Math.abs(l.alpha) * lowRankDiffNorm(p.truth, q.truth, null, null, l.lambda, p.dim, q.dim, k);
    return { name: l.name, relativeError: norm > 0 ? abs / norm : null, absoluteError: abs, norm };
  });
  return { factors, layers };
}

/** The columns of a row-major N×K matrix as K arrays of N numbers (the `--json` contract). */
export function columnsOf(m: Float64Array, rows: number, k: number): number[][] {
  return Array.from({ length: k }, (_, j) => Array.from({ length: rows }, (_, i) => m[i * k + j]!));
}

/** The `reconstruct --json` object: per factor its estimated columns and the report. */
export function reconstructionJson(plan: MeasurementPlan, r: Reconstruction): Record<string, unknown> {
  return {
    bitOrder:
      'little (wire 0 = least significant bit of the row index), as qpeft unitary --json; a factor whose width is not a power of two has its d rows in P order (row r is register basis state rowBasis[r], as qpeft unitary --width D --json)',
    orthonormalisation: 'polar factor V (VᵀV)^(-1/2) of the raw estimate V',
    circuits: r.factors.map((f) => ({
      circuit: f.id,
      layer: f.layer,
      factor: f.factor,
      qubits: f.qubits,
      width: f.dim,
      rowBasis: plan.factors.find((x) => x.id === f.id)?.rowBasis,
      columns: columnsOf(f.estimate, f.dim, f.columns),
      rawColumns: columnsOf(f.raw, f.dim, f.columns),
      leakage: f.leakage,
      fidelity: f.fidelity,
      columnOverlaps: f.columnOverlaps,
      frobeniusError: f.frobeniusError,
      rawOrthonormalityError: f.rawOrthonormalityError,
      shots: f.minShots,
    })),
    layers: r.layers,
    source: plan.source.kind,
  };
}

/**
 * Write the reconstructed adapter: a `lora` adapter (r = K, lora_alpha = K, so scaling 1) with
 * lora_down = P̂ (d_in × K) and lora_up = α·diag(λ)·Q̂ᵀ (K × d_out), i.e. ΔŴ = α·P̂·diag(λ)·Q̂ᵀ exactly, for
 * the same targets as the planned adapter, plus `hardware-report.json`. The config is written last.
 */
export function writeReconstructedAdapter(dir: string, plan: MeasurementPlan, r: Reconstruction): void {
  if (plan.source.kind !== 'adapter') {
    throw new InputError(
      '--out writes an adapter: the plan must come from an adapter (use --json for a template plan)',
    );
  }
  const byId = new Map(r.factors.map((f) => [f.id, f]));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const targets: { name: string; in_features: number; out_features: number }[] = [];
  let rank = 0;
  for (const l of plan.layers) {
    const p = byId.get(l.p)!;
    const q = byId.get(l.q)!;
    const k = p.columns;
    rank = k;
    const down = Float32Array.from(p.estimate);
    const up = new Float32Array(k * l.outFeatures);
    for (let j = 0; j < k; j++) {
      for (let o = 0; o < l.outFeatures; o++)
        up[j * l.outFeatures + o] = l.alpha * l.lambda[j]! * q.estimate[o * k + j]!;
    }
    tensors[`base_model.model.${l.name}.lora_down`] = { shape: [l.inFeatures, k], data: down };
    tensors[`base_model.model.${l.name}.lora_up`] = { shape: [k, l.outFeatures], data: up };
    targets.push({ name: l.name, in_features: l.inFeatures, out_features: l.outFeatures });
  }
  const original = plan.source.config;
  const config = {
    method: 'lora',
    targetModules: original.targetModules,
    seed: original.seed ?? 0,
    r: rank,
    loraAlpha: rank,
    useRslora: false,
  };
  writeFileAtomic(
    path.join(dir, WEIGHTS_FILE),
    encodeSafetensors(tensors, { format: 'pt', qpeft_method: 'lora' }),
  );
  writeFileAtomic(
    path.join(dir, 'hardware-report.json'),
    `${JSON.stringify({ ...reconstructionJson(plan, r), note: 'ΔŴ = α·P̂·diag(λ)·Q̂ᵀ stored as a LoRA adapter (lora_down = P̂, lora_up = α·diag(λ)·Q̂ᵀ, scaling 1)' }, null, 1)}\n`,
  );
  writeFileAtomic(
    path.join(dir, CONFIG_FILE),
    `${JSON.stringify(
      {
        format: 'qpeft-adapter',
        format_version: 1,
        peft_type: 'LORA',
        method: 'lora',
        config,
        targets,
        qasm_files: [],
      },
      null,
      2,
    )}\n`,
  );
}

/** A short text report of a reconstruction. */
export function reconstructionText(r: Reconstruction): string[] {
  const lines = r.factors.map(
    (f) =>
      `${f.id}: ${f.qubits} qubits${f.dim !== 2 ** f.qubits ? ` (width ${f.dim}, leakage ${f.leakage.toExponential(2)})` : ''}, K=${f.columns}, shots ≥ ${f.minShots}: fidelity ‖P̂ᵀP‖²/K = ${f.fidelity.toFixed(6)}, ‖P̂ − P‖_F = ${f.frobeniusError.toExponential(3)}, raw ‖VᵀV − I‖_F = ${f.rawOrthonormalityError.toExponential(3)}${f.columnOverlaps.some((o) => o < 0) ? ' (a column came out with the wrong sign)' : ''}`,
  );
  for (const l of r.layers) {
    lines.push(
      `${l.name}: ‖ΔŴ − ΔW‖_F = ${l.absoluteError.toExponential(3)}${l.relativeError === null ? ' (ΔW = 0: no relative error)' : `, relative ${l.relativeError.toExponential(3)}`}`,
    );
  }
  return lines;
}
