import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { autoThreads, maxThreads, parseThreads } from '../../src/tf/backend.ts';
import { maxAbsDiff, probe, reference } from './wasm-probe.ts';

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
