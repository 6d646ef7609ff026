import { describe, expect, it } from 'vitest';
import { simplifiedTwoDesign } from '../../src/circuit/index.ts';
import { InputError } from '../../src/errors.ts';
import { fitTarget, randomStiefel, reachability } from '../../src/expressivity/index.ts';
import { columns } from '../../src/sim/index.ts';
import { createRng, uniformAngles } from '../../src/util/random.ts';

describe('reachability', () => {
  it('recovers a target the circuit produced itself (f → 1, best of 4 starts)', () => {
    const c = simplifiedTwoDesign(3, 2);
    const target = columns(c, uniformAngles(c.params.length, 1), 2);
    let best = 0;
    for (let seed = 2; seed < 6; seed++) {
      const fit = fitTarget(c, target, uniformAngles(c.params.length, seed), {
        steps: 1000,
        learningRate: 0.05,
      });
      expect(fit.fidelity).toBeLessThanOrEqual(1);
      // the returned θ really gives the returned fidelity: ‖TᵀU(θ)‖²/K recomputed by the plain simulator
      const u = columns(c, fit.theta, 2).data;
      let f = 0;
      for (let a = 0; a < 2; a++) {
        for (let b = 0; b < 2; b++) {
          let d = 0;
          for (let i = 0; i < 8; i++) d += target.data[i * 2 + a]! * u[i * 2 + b]!;
          f += d * d;
        }
      }
      expect(f / 2).toBeCloseTo(fit.fidelity, 12);
      best = Math.max(best, fit.fidelity);
    }
    expect(best).toBeGreaterThan(0.9999);
  });

  it('L = 0 (product states) reaches the best product-state fidelity found by a grid search (n = 2)', () => {
    const c = simplifiedTwoDesign(2, 0);
    const r = reachability(c, { targets: 3, starts: 3, steps: 200, seed: 4 });
    // independent: the same targets (same seed stream: target, then the starts) by brute force on a grid
    const rng = createRng(4);
    for (let t = 0; t < 3; t++) {
      const target = randomStiefel(4, 1, rng).data;
      for (let s = 0; s < 3; s++) for (let i = 0; i < 2; i++) rng.next(); // the starts drawn by reachability
      let best = 0;
      const m = 600;
      for (let i = 0; i < m; i++) {
        const a = (2 * Math.PI * i) / m;
        for (let j = 0; j < m; j++) {
          const b = (2 * Math.PI * j) / m;
          // RY(a) on wire 0, RY(b) on wire 1: amplitudes (c_a c_b, s_a c_b, c_a s_b, s_a s_b)
          const ca = Math.cos(a / 2);
          const sa = Math.sin(a / 2);
          const cb = Math.cos(b / 2);
          const sb = Math.sin(b / 2);
          const d = target[0]! * ca * cb + target[1]! * sa * cb + target[2]! * ca * sb + target[3]! * sa * sb;
          best = Math.max(best, d * d);
        }
      }
      expect(r.perTarget[t]!).toBeGreaterThan(best - 1e-4);
      expect(r.perTarget[t]!).toBeLessThan(best + 1e-4);
      expect(best).toBeLessThan(1);
    }
  });

  it('improves with depth and reaches every 2-qubit real state from L = 1', () => {
    const f0 = reachability(simplifiedTwoDesign(2, 0), { targets: 4, seed: 2 }).mean;
    const f1 = reachability(simplifiedTwoDesign(2, 1), { targets: 4, seed: 2 }).mean;
    expect(f1).toBeGreaterThan(0.999);
    expect(f0).toBeLessThan(f1);
  });

  it('rejects bad input', () => {
    const c = simplifiedTwoDesign(2, 1);
    expect(() => reachability(c, { targets: 0 })).toThrow(InputError);
    expect(() => fitTarget(c, { rows: 8, cols: 1, data: new Float64Array(8) }, [0, 0, 0, 0])).toThrow(
      /4 rows/,
    );
  });
});
