/**
 * A noisy shot simulator for one measured program: Pauli channels after gates and classical readout flips,
 * sampled by Monte-Carlo trajectories on the real statevector kernels.
 *
 * Noise model (`NoiseModel`): after every one-qubit gate, with probability p1 one of X, Y, Z (uniformly) on
 * its wire; after every two-qubit gate, with probability p2 one of the 15 non-identity two-qubit Paulis
 * (uniformly) on its wires. This is the depolarizing channel ρ → (1 − p)ρ + p/(4^k − 1)·Σ_{P≠I} PρP (for a
 * depolarizing parameter λ in ρ → (1 − λ)ρ + λ·I/2^k, p = λ·(4^k − 1)/4^k). Then each measured bit flips
 * 0 → 1 with probability r01 and 1 → 0 with probability r10.
 *
 * Why trajectories are exact in distribution: the channel is a mixture of unitaries, so the outcome law is
 * Σ_patterns Pr(pattern)·|⟨j|U_pattern|ψ⟩|², and a shot that first draws a pattern with its probability and
 * then an outcome from that pattern's pure state samples exactly that law. X and Z are real; Y = i·X·Z, so a
 * pattern with m Y's gives the real state of the same pattern with Y → X·Z times iᵐ, a global phase that no
 * probability sees: every trajectory runs on the real kernels. Shots with the same pattern share one
 * statevector run (grouping i.i.d. shots by pattern does not change their joint law), so cost grows with
 * the number of distinct patterns, not with the shots; the error-free pattern takes most shots at low noise.
 */
import { type Circuit, GATES } from '../circuit/index.ts';
import { describe, InputError } from '../errors.ts';
import { applyOp } from '../sim/kernels.ts';
import { compile, gateAngles, resolveTheta } from '../sim/program.ts';
import { createRng, type Rng } from '../util/random.ts';

/** Pauli error probabilities after gates and readout flip probabilities. */
export interface NoiseModel {
  /** Error probability after each one-qubit gate. */
  readonly p1: number;
  /** Error probability after each two-qubit gate. */
  readonly p2: number;
  /** Readout: probability that a 0 reads as 1. */
  readonly r01: number;
  /** Readout: probability that a 1 reads as 0. */
  readonly r10: number;
}

/** No noise. */
export const NOISELESS: NoiseModel = Object.freeze({ p1: 0, p2: 0, r01: 0, r10: 0 });

/** Check a noise model's probabilities. */
export function checkNoise(noise: NoiseModel): NoiseModel {
  for (const k of ['p1', 'p2', 'r01', 'r10'] as const) {
    const v = noise[k];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
      throw new InputError(`noise ${k} must be a probability in [0, 1], got ${describe(v)}`);
    }
  }
  return noise;
}

/**
 * Parse `--noise depolarizing:P1,P2` (or `none`) and `--readout R` / `R01,R10` into a model.
 */
export function parseNoise(noise: string | undefined, readout: string | undefined): NoiseModel {
  let p1 = 0;
  let p2 = 0;
  if (noise !== undefined && noise !== 'none') {
    const m = /^depolarizing:([^,]+),([^,]+)$/.exec(noise.trim());
    if (!m)
      throw new InputError(
        `--noise must be none or depolarizing:P1,P2 (e.g. depolarizing:0.001,0.01), got ${describe(noise)}`,
      );
    p1 = Number(m[1]);
    p2 = Number(m[2]);
  }
  let r01 = 0;
  let r10 = 0;
  if (readout !== undefined) {
    const parts = readout.split(',');
    if (
      parts.length < 1 ||
      parts.length > 2 ||
      parts.some((p) => p.trim() === '' || Number.isNaN(Number(p)))
    ) {
      throw new InputError(`--readout must be R or R01,R10 (flip probabilities), got ${describe(readout)}`);
    }
    r01 = Number(parts[0]);
    r10 = Number(parts[parts.length - 1]);
  }
  return checkNoise({ p1, p2, r01, r10 });
}

/**
 * Walker/Vose alias table over a probability vector: O(N) to build, O(1) per draw, exact for the given
 * doubles up to the generator's 32-bit resolution.
 */
export function aliasSampler(p: ArrayLike<number>): (rng: Rng) => number {
  const n = p.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += p[i]!;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    scaled[i] = (p[i]! / sum) * n;
    (scaled[i]! < 1 ? small : large).push(i);
  }
  while (small.length && large.length) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! + scaled[s]! - 1;
    (scaled[l]! < 1 ? small : large).push(l);
  }
  for (const i of large) prob[i] = 1;
  for (const i of small) prob[i] = 1;
  return (rng) => {
    const u = rng.next() * n;
    const i = Math.min(n - 1, Math.floor(u));
    return u - i < prob[i]! ? i : alias[i]!;
  };
}

function pauliX(v: Float64Array, w: number): void {
  const s = 1 << w;
  for (let i = 0; i < v.length; i++) {
    if (i & s) continue;
    const t = v[i]!;
    v[i] = v[i | s]!;
    v[i | s] = t;
  }
}

function pauliZ(v: Float64Array, w: number): void {
  const s = 1 << w;
  for (let i = 0; i < v.length; i++) if (i & s) v[i] = -v[i]!;
}

/** Apply Pauli `code` (0 = I, 1 = X, 2 = Y ∝ X·Z, 3 = Z) on wire w; Y's factor i is dropped (a global phase). */
function applyPauli(v: Float64Array, w: number, code: number): void {
  if (code === 3 || code === 2) pauliZ(v, w);
  if (code === 1 || code === 2) pauliX(v, w);
}

/** Memory for the error-free run's intermediate states that noisy trajectories start from (`sampleCounts`). */
const SNAPSHOT_BYTES = 64 * 2 ** 20;

/** Options of `sampleCounts`. */
export interface SampleOptions {
  noise?: NoiseModel;
  /** Seed of this circuit's generator (the plan simulator derives one per circuit). */
  seed?: number;
}

/**
 * Sample `shots` outcomes of measuring every qubit after `circuit` (bound, real gates) under `noise`.
 * Returns counts per basis index (wire 0 = least significant bit).
 */
export function sampleCounts(
  circuit: Circuit,
  shots: number,
  options: SampleOptions = {},
): Map<number, number> {
  if (!Number.isSafeInteger(shots) || shots < 1)
    throw new InputError(`shots must be a positive integer, got ${describe(shots)}`);
  const noise = checkNoise(options.noise ?? NOISELESS);
  const rng = createRng(options.seed ?? 0);
  const prog = compile(circuit);
  const angles = gateAngles(prog, resolveTheta(circuit, undefined));
  const dim = prog.dim;
  const n = prog.qubits;
  const twoQubit = circuit.gates.map((g) => GATES[g.name].arity === 2);
  // 1. each shot's error pattern; shots grouped by pattern. The shots a gate hits form a Bernoulli(p)
  // sequence, drawn as geometric gaps between hits (one draw per error instead of one per gate and shot);
  // gates are visited in order, so each shot's list is in gate order.
  const hit = new Map<number, number[]>();
  for (let g = 0; g < prog.nGates; g++) {
    const two = twoQubit[g]!;
    const p = two ? noise.p2 : noise.p1;
    if (!(p > 0)) continue;
    const logq = Math.log1p(-p);
    for (let s = -1; ; ) {
      s += 1 + (p >= 1 ? 0 : Math.floor(Math.log1p(-rng.next()) / logq));
      if (s >= shots) break;
      const code = two ? 1 + rng.int(15) : 1 + rng.int(3);
      const list = hit.get(s);
      if (list) list.push(g, code);
      else hit.set(s, [g, code]);
    }
  }
  const groups = new Map<string, { count: number; errors: number[] }>();
  const clean = shots - hit.size;
  for (const errors of hit.values()) {
    const key = errors.join(',');
    const e = groups.get(key);
    if (e) e.count++;
    else groups.set(key, { count: 1, errors });
  }
  // 2. one statevector run per distinct pattern, its shots' outcomes drawn from it. Every pattern agrees
  // with the error-free run up to its first error, so the error-free states are kept (every `stride` gates,
  // within SNAPSHOT_BYTES) and a pattern starts from the last one at or before its first error: the same
  // operations on the same doubles, so the counts are those of a run from |0…0⟩, at about half the cost.
  const tally = new Float64Array(dim);
  const v = new Float64Array(dim);
  const stride = Math.max(1, Math.ceil(((prog.nGates + 1) * dim * 8) / SNAPSHOT_BYTES));
  const snaps: Float64Array[] = [];
  if (groups.size > 0) {
    v.fill(0);
    v[0] = 1;
    for (let g = 0; g < prog.nGates; g++) {
      // snaps[i] holds the state before gate i·stride
      if (g % stride === 0) snaps.push(Float64Array.from(v));
      applyOp(prog, g, angles[g]!, v, 1, false);
    }
  }
  const run = (errors: readonly number[]) => {
    let start = 0;
    if (errors.length && snaps.length) {
      const i = Math.floor(errors[0]! / stride);
      start = i * stride;
      v.set(snaps[i]!);
    } else {
      v.fill(0);
      v[0] = 1;
    }
    let e = 0;
    for (let g = start; g < prog.nGates; g++) {
      applyOp(prog, g, angles[g]!, v, 1, false);
      while (e < errors.length && errors[e] === g) {
        const code = errors[e + 1]!;
        if (twoQubit[g]) {
          applyPauli(v, prog.w0[g]!, code & 3);
          applyPauli(v, prog.w1[g]!, code >> 2);
        } else applyPauli(v, prog.w0[g]!, code);
        e += 2;
      }
    }
  };
  const readout = noise.r01 > 0 || noise.r10 > 0;
  const record = (index: number) => {
    let j = index;
    if (readout) {
      for (let w = 0; w < n; w++) {
        const bit = (j >> w) & 1;
        if (rng.next() < (bit ? noise.r10 : noise.r01)) j ^= 1 << w;
      }
    }
    tally[j] = tally[j]! + 1;
  };
  // `count` outcomes of the state in v: an alias table for many draws; for a few (most error patterns
  // hold one shot), sorted uniforms against one pass of the cumulative distribution, which builds nothing
  const drawFromState = (count: number) => {
    if (count * 16 >= dim) {
      const p = new Float64Array(dim);
      for (let i = 0; i < dim; i++) p[i] = v[i]! * v[i]!;
      const draw = aliasSampler(p);
      for (let s = 0; s < count; s++) record(draw(rng));
      return;
    }
    let total = 0;
    for (let i = 0; i < dim; i++) total += v[i]! * v[i]!;
    const u = new Float64Array(count);
    for (let s = 0; s < count; s++) u[s] = rng.next() * total;
    u.sort();
    let i = 0;
    let last = 0;
    let cum = 0;
    for (let s = 0; s < count; s++) {
      while (i < dim && cum + v[i]! * v[i]! <= u[s]!) {
        cum += v[i]! * v[i]!;
        if (v[i] !== 0) last = i;
        i++;
      }
      // rounding can leave u beyond the last partial sum: that draw belongs to the last non-zero outcome
      record(i < dim ? i : last);
    }
  };
  if (clean > 0) {
    run([]);
    drawFromState(clean);
  }
  for (const { count, errors } of groups.values()) {
    run(errors);
    drawFromState(count);
  }
  const counts = new Map<number, number>();
  for (let j = 0; j < dim; j++) if (tally[j]! > 0) counts.set(j, tally[j]!);
  return counts;
}
