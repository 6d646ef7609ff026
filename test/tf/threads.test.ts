import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { autoThreads, maxThreads, parseThreads } from '../../src/tf/backend.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROBE = path.join(ROOT, 'test/tf/threads-probe.ts');

interface Probe {
  describe: string;
  threads: number;
  product: number[];
  grad: number[];
}

function probe(threads: string): Probe {
  const r = spawnSync(process.execPath, ['--import', 'tsx', PROBE], {
    cwd: ROOT,
    env: { ...process.env, QPEFT_THREADS: threads },
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.status !== 0)
    throw new Error(`probe with ${threads} threads failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Probe;
}

/** The same computation as the probe, in float64 plain loops. */
function reference(): { product: Float64Array; grad: Float64Array } {
  const [m, k, n] = [96, 80, 72];
  const fill = (len: number, seed: number) =>
    Float64Array.from({ length: len }, (_, i) =>
      Math.fround(Math.sin(0.37 * i + seed) * Math.cos(0.11 * i * seed + 1)),
    );
  const a = fill(m * k, 1);
  const b = fill(k * n, 2);
  const product = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
      product[i * n + j] = s;
    }
  const g = product.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
  const grad = new Float64Array(k * n);
  for (let t = 0; t < k; t++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < m; i++) s += a[i * k + t]! * g[i * n + j]!;
      grad[t * n + j] = s;
    }
  return { product, grad };
}

function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

describe('wasm thread count', () => {
  it('parses --threads / QPEFT_THREADS and refuses anything else', () => {
    expect(parseThreads('1')).toBe(1);
    expect(parseThreads(3)).toBe(3);
    expect(parseThreads('auto')).toBe(autoThreads());
    expect(parseThreads(undefined)).toBe(autoThreads());
    expect(parseThreads('max')).toBe(maxThreads());
    expect(maxThreads()).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '9', '-1', '1.5', 'two', 2.5])
      expect(() => parseThreads(bad)).toThrow(InputError);
    expect(() => parseThreads('two')).toThrow(/"auto", "max" or an integer from 1 to 8.*"two"/);
  });

  it('the threaded SIMD build starts under Node with 2 threads and computes what the single-threaded build does', () => {
    const one = probe('1');
    const two = probe('2');
    expect(one.describe).toBe('wasm (1 thread)');
    expect(two.threads).toBe(2);
    expect(two.describe).toBe('wasm (2 threads)');
    const ref = reference();
    expect(maxAbsDiff(one.product, ref.product)).toBeLessThan(1e-4);
    expect(maxAbsDiff(two.product, ref.product)).toBeLessThan(1e-4);
    expect(maxAbsDiff(one.grad, ref.grad)).toBeLessThan(1e-3);
    expect(maxAbsDiff(two.grad, ref.grad)).toBeLessThan(1e-3);
    // XNNPACK splits the same tiles across threads: the sums are equal up to float32 summation order
    expect(maxAbsDiff(one.product, two.product)).toBeLessThan(1e-4);
  }, 300_000);
});
