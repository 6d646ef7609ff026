/**
 * An independent dense-matrix reference for the QASM tests: gate matrices written out by hand and applied
 * to a 2ⁿ×2ⁿ complex matrix (wire w is bit w of the basis index, as `simulateComplex` returns). It shares
 * no code with the lowering: controls are applied by testing bits, powers come from the closed forms the
 * tests pass in.
 */
export type C = readonly [number, number];
/** A 2×2 matrix, row-major. */
export type M2 = readonly [C, C, C, C];

export const cexp = (t: number): C => [Math.cos(t), Math.sin(t)];
const mul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];

const R = Math.SQRT1_2;
export const I2: M2 = [
  [1, 0],
  [0, 0],
  [0, 0],
  [1, 0],
];
export const X: M2 = [
  [0, 0],
  [1, 0],
  [1, 0],
  [0, 0],
];
export const Y: M2 = [
  [0, 0],
  [0, -1],
  [0, 1],
  [0, 0],
];
export const Z: M2 = [
  [1, 0],
  [0, 0],
  [0, 0],
  [-1, 0],
];
export const H: M2 = [
  [R, 0],
  [R, 0],
  [R, 0],
  [-R, 0],
];
/** diag(1, e^{iλ}). */
export const P = (l: number): M2 => [[1, 0], [0, 0], [0, 0], cexp(l)];
export const S = P(Math.PI / 2);
export const T = P(Math.PI / 4);
/** √X = ½[[1+i, 1−i], [1−i, 1+i]]. */
export const SX: M2 = [
  [0.5, 0.5],
  [0.5, -0.5],
  [0.5, -0.5],
  [0.5, 0.5],
];
export const RX = (t: number): M2 => [
  [Math.cos(t / 2), 0],
  [0, -Math.sin(t / 2)],
  [0, -Math.sin(t / 2)],
  [Math.cos(t / 2), 0],
];
export const RY = (t: number): M2 => [
  [Math.cos(t / 2), 0],
  [-Math.sin(t / 2), 0],
  [Math.sin(t / 2), 0],
  [Math.cos(t / 2), 0],
];
export const RZ = (t: number): M2 => [cexp(-t / 2), [0, 0], [0, 0], cexp(t / 2)];
/** U(θ, φ, λ) of OpenQASM (Qiskit's U3). */
export const U = (t: number, p: number, l: number): M2 => [
  [Math.cos(t / 2), 0],
  mul([-Math.sin(t / 2), 0], cexp(l)),
  mul([Math.sin(t / 2), 0], cexp(p)),
  mul([Math.cos(t / 2), 0], cexp(p + l)),
];
export const scaled = (m: M2, f: C): M2 => [mul(m[0], f), mul(m[1], f), mul(m[2], f), mul(m[3], f)];

/** A dense unitary built gate by gate (each new gate multiplies from the left). */
export class Dense {
  readonly dim: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
  constructor(readonly n: number) {
    this.dim = 2 ** n;
    this.re = new Float64Array(this.dim * this.dim);
    this.im = new Float64Array(this.dim * this.dim);
    for (let i = 0; i < this.dim; i++) this.re[i * this.dim + i] = 1;
  }
  /** Apply `m` on `target` where every wire in `controls` is 1 and every wire in `negControls` is 0. */
  g(m: M2, target: number, controls: number[] = [], negControls: number[] = []): this {
    const { dim, re, im } = this;
    const tb = 1 << target;
    for (let r0 = 0; r0 < dim; r0++) {
      if (r0 & tb) continue;
      if (!controls.every((c) => (r0 >> c) & 1)) continue;
      if (!negControls.every((c) => !((r0 >> c) & 1))) continue;
      const r1 = r0 | tb;
      for (let c = 0; c < dim; c++) {
        const a: C = [re[r0 * dim + c]!, im[r0 * dim + c]!];
        const b: C = [re[r1 * dim + c]!, im[r1 * dim + c]!];
        const x = mul(m[0], a);
        const y = mul(m[1], b);
        const u = mul(m[2], a);
        const v = mul(m[3], b);
        re[r0 * dim + c] = x[0] + y[0];
        im[r0 * dim + c] = x[1] + y[1];
        re[r1 * dim + c] = u[0] + v[0];
        im[r1 * dim + c] = u[1] + v[1];
      }
    }
    return this;
  }
  /** Swap two wires. */
  swap(a: number, b: number): this {
    return this.g(X, a, [b]).g(X, b, [a]).g(X, a, [b]);
  }
  /** Multiply by e^{iφ}. */
  phase(phi: number): this {
    const f = cexp(phi);
    for (let i = 0; i < this.re.length; i++) {
      const [x, y] = mul([this.re[i]!, this.im[i]!], f);
      this.re[i] = x;
      this.im[i] = y;
    }
    return this;
  }
}
