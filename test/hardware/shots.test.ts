/**
 * The noisy shot simulator against independent references: the 1/√shots rate, a complex float64
 * density-matrix calculation written here, and the closed-form readout confusion matrix.
 */
import { describe, expect, it } from 'vitest';
import { cz, h, makeCircuit, ry, x } from '../../src/circuit/ir.ts';
import {
  buildPlan,
  type NoiseModel,
  parseNoise,
  reconstruct,
  sampleCounts,
  simulatePlan,
  templateFactor,
} from '../../src/hardware/index.ts';

/** Pearson χ² of counts against probabilities, over outcomes with p > 0; also the number of such outcomes. */
function chiSquare(
  counts: Map<number, number>,
  p: ArrayLike<number>,
  shots: number,
): { chi2: number; dof: number } {
  let chi2 = 0;
  let cells = 0;
  for (let j = 0; j < p.length; j++) {
    const e = p[j]! * shots;
    const o = counts.get(j) ?? 0;
    if (e < 1e-12) {
      expect(o, `outcome ${j} has probability 0 but was sampled`).toBe(0);
      continue;
    }
    chi2 += (o - e) ** 2 / e;
    cells++;
  }
  return { chi2, dof: cells - 1 };
}

/** χ² is within 6 standard deviations of its mean (dof): a failure here is a real disagreement. */
function expectChiOk(r: { chi2: number; dof: number }): void {
  expect(r.chi2).toBeLessThan(r.dof + 6 * Math.sqrt(2 * r.dof) + 10);
}

describe('noiseless convergence', () => {
  it('‖P̂ − P‖_F falls as shots^(−1/2): fitted slope over 1e2 … 1e6 shots', async () => {
    const shots = [1e2, 1e3, 1e4, 1e5, 1e6];
    const errs: number[] = [];
    for (const s of shots) {
      let sum = 0;
      const seeds = 3;
      for (let seed = 0; seed < seeds; seed++) {
        const f = templateFactor('simplified-two-design', 3, 1, 7, 2);
        const { plan } = buildPlan(
          { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 1, seed: 7 },
          [f],
          [],
          { shots: s },
        );
        const counts = await simulatePlan(plan, { seed, workers: 0 });
        sum += reconstruct(plan, counts).factors[0]!.frobeniusError ** 2;
      }
      errs.push(Math.sqrt(sum / seeds));
    }
    const xs = shots.map(Math.log10);
    const ys = errs.map(Math.log10);
    const mx = xs.reduce((a, b) => a + b) / xs.length;
    const my = ys.reduce((a, b) => a + b) / ys.length;
    let num = 0;
    let den = 0;
    for (let i = 0; i < xs.length; i++) {
      num += (xs[i]! - mx) * (ys[i]! - my);
      den += (xs[i]! - mx) ** 2;
    }
    const slope = num / den;
    expect(slope).toBeGreaterThan(-0.6);
    expect(slope).toBeLessThan(-0.4);
    expect(errs[4]!).toBeLessThan(0.01);
  });
});

// --- an independent density-matrix simulator (complex float64), written only for this test ----------------

type C = { re: Float64Array; im: Float64Array; n: number };
const cm = (n: number): C => ({ re: new Float64Array(n * n), im: new Float64Array(n * n), n });

function mul(a: C, b: C): C {
  const n = a.n;
  const o = cm(n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const ar = a.re[i * n + k]!;
      const ai = a.im[i * n + k]!;
      if (ar === 0 && ai === 0) continue;
      for (let j = 0; j < n; j++) {
        o.re[i * n + j] = o.re[i * n + j]! + ar * b.re[k * n + j]! - ai * b.im[k * n + j]!;
        o.im[i * n + j] = o.im[i * n + j]! + ar * b.im[k * n + j]! + ai * b.re[k * n + j]!;
      }
    }
  return o;
}
function dagger(a: C): C {
  const n = a.n;
  const o = cm(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      o.re[i * n + j] = a.re[j * n + i]!;
      o.im[i * n + j] = -a.im[j * n + i]!;
    }
  return o;
}
/** The 2^q × 2^q matrix of a one-qubit 2×2 complex gate g on wire w (wire 0 = least significant bit). */
function embed1(g: [number, number][][], w: number, q: number): C {
  const n = 2 ** q;
  const o = cm(n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if ((i & ~(1 << w)) !== (j & ~(1 << w))) continue;
      const [re, im] = g[(i >> w) & 1]![(j >> w) & 1]!;
      o.re[i * n + j] = re;
      o.im[i * n + j] = im;
    }
  return o;
}
const I2: [number, number][][] = [
  [
    [1, 0],
    [0, 0],
  ],
  [
    [0, 0],
    [1, 0],
  ],
];
const PX: [number, number][][] = [
  [
    [0, 0],
    [1, 0],
  ],
  [
    [1, 0],
    [0, 0],
  ],
];
const PY: [number, number][][] = [
  [
    [0, 0],
    [0, -1],
  ],
  [
    [0, 1],
    [0, 0],
  ],
];
const PZ: [number, number][][] = [
  [
    [1, 0],
    [0, 0],
  ],
  [
    [0, 0],
    [-1, 0],
  ],
];
const PAULIS = [I2, PX, PY, PZ];
function ryM(t: number): [number, number][][] {
  return [
    [
      [Math.cos(t / 2), 0],
      [-Math.sin(t / 2), 0],
    ],
    [
      [Math.sin(t / 2), 0],
      [Math.cos(t / 2), 0],
    ],
  ];
}
const H: [number, number][][] = [
  [
    [Math.SQRT1_2, 0],
    [Math.SQRT1_2, 0],
  ],
  [
    [Math.SQRT1_2, 0],
    [-Math.SQRT1_2, 0],
  ],
];
function czM(a: number, b: number, q: number): C {
  const n = 2 ** q;
  const o = cm(n);
  for (let i = 0; i < n; i++) o.re[i * n + i] = (i >> a) & 1 && (i >> b) & 1 ? -1 : 1;
  return o;
}
function conj(u: C, rho: C): C {
  return mul(mul(u, rho), dagger(u));
}
function addScaled(acc: C, a: C, s: number): void {
  for (let i = 0; i < acc.re.length; i++) {
    acc.re[i] = acc.re[i]! + s * a.re[i]!;
    acc.im[i] = acc.im[i]! + s * a.im[i]!;
  }
}

type DmGate =
  | { kind: 'ry'; w: number; t: number }
  | { kind: 'x' | 'h'; w: number }
  | { kind: 'cz'; a: number; b: number };

/** diag(ρ) after the gates with depolarizing Pauli channels, then the readout confusion applied. */
function densityMatrixProbabilities(q: number, gates: DmGate[], noise: NoiseModel): Float64Array {
  const n = 2 ** q;
  let rho = cm(n);
  rho.re[0] = 1;
  for (const g of gates) {
    if (g.kind === 'cz') {
      rho = conj(czM(g.a, g.b, q), rho);
      const out = cm(n);
      addScaled(out, rho, 1 - noise.p2);
      for (let code = 1; code < 16; code++) {
        const u = mul(embed1(PAULIS[code & 3]!, g.a, q), embed1(PAULIS[code >> 2]!, g.b, q));
        addScaled(out, conj(u, rho), noise.p2 / 15);
      }
      rho = out;
    } else {
      const m = g.kind === 'ry' ? ryM(g.t) : g.kind === 'x' ? PX : H;
      rho = conj(embed1(m, g.w, q), rho);
      const out = cm(n);
      addScaled(out, rho, 1 - noise.p1);
      for (let p = 1; p < 4; p++) addScaled(out, conj(embed1(PAULIS[p]!, g.w, q), rho), noise.p1 / 3);
      rho = out;
    }
  }
  const p = Float64Array.from({ length: n }, (_, i) => rho.re[i * n + i]!);
  return confusion(p, q, noise);
}

/** Closed-form readout: P(observed o | true t) = Π_w P(bit o_w | bit t_w). */
/**
 * Sample the circuit of `gates` under each noise model and check the counts against the density matrix
 * (χ² within bounds), and that the noiseless law is rejected (χ² above `cleanChi2Above`): the test can tell
 * noise from none.
 */
function noisyAgainstDensityMatrix(
  q: number,
  gates: DmGate[],
  noises: NoiseModel[],
  o: { shots: number; seed: number; cleanChi2Above: number },
): void {
  const circuit = makeCircuit({
    qubits: q,
    gates: gates.map((g) =>
      g.kind === 'ry' ? ry(g.w, g.t) : g.kind === 'cz' ? cz(g.a, g.b) : g.kind === 'x' ? x(g.w) : h(g.w),
    ),
  });
  const clean = densityMatrixProbabilities(q, gates, { p1: 0, p2: 0, r01: 0, r10: 0 });
  for (const noise of noises) {
    const counts = sampleCounts(circuit, o.shots, { noise, seed: o.seed });
    expectChiOk(chiSquare(counts, densityMatrixProbabilities(q, gates, noise), o.shots));
    expect(chiSquare(counts, clean, o.shots).chi2).toBeGreaterThan(o.cleanChi2Above);
  }
}

function confusion(p: Float64Array, q: number, noise: NoiseModel): Float64Array {
  const n = 2 ** q;
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++)
    for (let o = 0; o < n; o++) {
      let pr = 1;
      for (let w = 0; w < q; w++) {
        const tb = (t >> w) & 1;
        const ob = (o >> w) & 1;
        const flip = tb ? noise.r10 : noise.r01;
        pr *= tb === ob ? 1 - flip : flip;
      }
      out[o] = out[o]! + p[t]! * pr;
    }
  return out;
}

describe('noisy trajectories', () => {
  it('match an independent complex density-matrix calculation (χ² test, 3 qubits, 2e5 shots)', () => {
    const gates: DmGate[] = [
      { kind: 'x', w: 1 },
      { kind: 'ry', w: 0, t: 0.7 },
      { kind: 'ry', w: 2, t: -1.9 },
      { kind: 'cz', a: 0, b: 1 },
      { kind: 'ry', w: 1, t: 2.3 },
      { kind: 'h', w: 0 },
      { kind: 'cz', a: 1, b: 2 },
      { kind: 'ry', w: 2, t: 0.4 },
      { kind: 'ry', w: 0, t: -0.9 },
    ];
    noisyAgainstDensityMatrix(
      3,
      gates,
      [
        { p1: 0.05, p2: 0.12, r01: 0, r10: 0 },
        { p1: 0.02, p2: 0.3, r01: 0.03, r10: 0.08 },
      ],
      { shots: 200_000, seed: 17, cleanChi2Above: 1000 },
    );
  });

  it('6 qubits, most error patterns drawn once (the few-draw sampler) and rare errors (geometric gaps): χ² against the density matrix', () => {
    // 64 outcomes: a pattern holding fewer than 4 shots is sampled from its cumulative distribution, the
    // error-free pattern from an alias table; both paths and the snapshot restart are exercised here
    const gates: DmGate[] = [{ kind: 'x', w: 3 }];
    const rng = [0.3, -1.1, 2.2, 0.8, -0.5, 1.7, -2.4, 0.1, 1.3, -0.7, 0.9, -1.6];
    for (let w = 0; w < 6; w++) gates.push({ kind: 'ry', w, t: rng[w]! });
    for (let w = 0; w + 1 < 6; w++) gates.push({ kind: 'cz', a: w, b: w + 1 });
    for (let w = 0; w < 6; w++) gates.push({ kind: 'ry', w, t: rng[6 + w]! });
    gates.push({ kind: 'h', w: 2 });
    noisyAgainstDensityMatrix(
      6,
      gates,
      [
        { p1: 0.04, p2: 0.15, r01: 0.02, r10: 0.05 },
        { p1: 0.002, p2: 0.01, r01: 0, r10: 0 },
      ],
      { shots: 100_000, seed: 3, cleanChi2Above: 200 },
    );
  });

  it('readout flips equal the closed-form confusion matrix (asymmetric, every prepared basis state)', () => {
    const noise = { p1: 0, p2: 0, r01: 0.1, r10: 0.25 };
    for (const k of [0, 5, 7]) {
      const gates = [0, 1, 2].filter((w) => (k >> w) & 1).map((w) => x(w));
      const circuit = makeCircuit({ qubits: 3, gates });
      const shots = 100_000;
      const counts = sampleCounts(circuit, shots, { noise, seed: k });
      const truth = new Float64Array(8);
      truth[k] = 1;
      expectChiOk(chiSquare(counts, confusion(truth, 3, noise), shots));
    }
  });

  it('the same seed gives the same counts with 0, 1 or 2 workers; another seed differs', async () => {
    const f = templateFactor('simplified-two-design', 3, 2, 1, 2);
    const { plan } = buildPlan(
      { kind: 'template', template: 'simplified-two-design', qubits: 3, layers: 2, seed: 1 },
      [f],
      [],
      { shots: 500 },
    );
    const noise = { p1: 0.01, p2: 0.05, r01: 0.02, r10: 0.02 };
    const a = await simulatePlan(plan, { noise, seed: 3, workers: 0 });
    const b = await simulatePlan(plan, { noise, seed: 3, workers: 2, batchSize: 3 });
    const c = await simulatePlan(plan, { noise, seed: 4, workers: 0 });
    const norm = (m: Map<string, Map<number, number>>) =>
      [...m].map(([id, hh]) => [id, [...hh].sort((u, v) => u[0] - v[0])]);
    expect(norm(b)).toEqual(norm(a));
    expect(norm(c)).not.toEqual(norm(a));
  });

  it('parseNoise: the flag forms and their errors', () => {
    expect(parseNoise('depolarizing:0.001,0.01', '0.02')).toEqual({
      p1: 0.001,
      p2: 0.01,
      r01: 0.02,
      r10: 0.02,
    });
    expect(parseNoise(undefined, '0.01,0.03')).toEqual({ p1: 0, p2: 0, r01: 0.01, r10: 0.03 });
    expect(() => parseNoise('pauli:0.1', undefined)).toThrow(/--noise must be none or depolarizing:P1,P2/);
    expect(() => parseNoise('depolarizing:0.1,2', undefined)).toThrow(
      /p2 must be a probability in \[0, 1\], got 2/,
    );
    expect(() => parseNoise(undefined, 'x')).toThrow(/--readout must be R or R01,R10/);
  });
});
