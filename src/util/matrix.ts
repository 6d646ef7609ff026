/** Dense row-major matrices on typed arrays (the simulator's output format). */
export type Vec = Float64Array | Float32Array;

export interface Matrix<T extends Vec = Vec> {
  readonly rows: number;
  readonly cols: number;
  /** Row-major: element (i, j) at `i·cols + j`. */
  readonly data: T;
}

/** Row-major transpose into a new array of the same type. */
export function transposeData<T extends Vec>(data: T, rows: number, cols: number): T {
  const out = new (data.constructor as new (n: number) => T)(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!;
  return out;
}

/** AᵀB for row-major A (m×p) and B (m×q): the Gram-type product used for orthogonality checks. */
export function gram(a: Matrix, b: Matrix = a): Float64Array {
  const { rows: m, cols: p } = a;
  const q = b.cols;
  const out = new Float64Array(p * q);
  for (let k = 0; k < m; k++) {
    const ak = k * p;
    const bk = k * q;
    for (let i = 0; i < p; i++) {
      const x = a.data[ak + i]!;
      if (x === 0) continue;
      const oi = i * q;
      for (let j = 0; j < q; j++) out[oi + j]! += x * b.data[bk + j]!;
    }
  }
  return out;
}

/** max |AᵀA − I| over all entries: the orthogonality error of a matrix with orthonormal columns. */
export function orthogonalityError(a: Matrix): number {
  const g = gram(a);
  let err = 0;
  for (let i = 0; i < a.cols; i++) {
    for (let j = 0; j < a.cols; j++) err = Math.max(err, Math.abs(g[i * a.cols + j]! - (i === j ? 1 : 0)));
  }
  return err;
}

/** Convert a matrix to nested arrays of numbers (for JSON output). */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}
