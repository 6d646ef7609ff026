/**
 * The hardware round trip for a 1024×1024 adapter layer (n = 10 qubits, L = 2, K = 8): plan (P and Q:
 * 2 × 8 × 11 = 176 programs), simulate 1e4 shots per circuit, reconstruct; with 1 and 2 worker threads in
 * this one run (noiseless and under depolarizing noise), plus the ibm-basis gate counts before and after the
 * rotation merging.
 */
import { makeCircuit } from '../src/circuit/ir.ts';
import { getTemplate } from '../src/circuit/templates/index.ts';
import { buildPlan, measurementCircuit, optimizeIbm, planFactorRecord } from '../src/hardware/index.ts';
import { reconstruct } from '../src/hardware/reconstruct.ts';
import { simulatePlan } from '../src/hardware/simulate.ts';
import { qasmStats } from '../src/qasm/export.ts';
import { uniformAngles } from '../src/util/random.ts';

export default async function hardwareBench(): Promise<void> {
  const n = 10;
  const L = 2;
  const K = 8;
  const shots = 10_000;
  const circuit = getTemplate('simplified-two-design').build(n, L);
  const factor = (id: 'P' | 'Q', seed: number) =>
    planFactorRecord({
      id: `layer.${id}`,
      layer: 'layer',
      factor: id,
      circuit,
      theta: uniformAngles(circuit.params.length, seed),
      columns: K,
    });
  const t0 = performance.now();
  const P = factor('P', 1);
  const Q = factor('Q', 2);
  const { plan, programs } = buildPlan(
    { kind: 'adapter', dir: '(bench)', config: {} },
    [P, Q],
    [
      {
        name: 'layer',
        inFeatures: 1024,
        outFeatures: 1024,
        alpha: 1,
        lambda: [1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
        p: P.id,
        q: Q.id,
      },
    ],
    { shots },
  );
  const planMs = performance.now() - t0;
  const circuits = plan.circuits.length;
  console.log(
    `adapter 1024×1024, n=${n}, L=${L}, K=${K}: ${circuits} programs (${programs.size} files), ${shots} shots each; plan ${planMs.toFixed(0)} ms`,
  );
  const rows: string[] = [];
  let base = 0;
  for (const noise of [
    { label: 'noiseless', model: { p1: 0, p2: 0, r01: 0, r10: 0 } },
    { label: 'depolarizing 1e-3/1e-2, readout 1e-2', model: { p1: 1e-3, p2: 1e-2, r01: 1e-2, r10: 1e-2 } },
  ]) {
    for (const workers of [1, 2]) {
      const t = performance.now();
      const counts = await simulatePlan(plan, { seed: 0, workers, noise: noise.model });
      const simMs = performance.now() - t;
      const t2 = performance.now();
      const r = reconstruct(plan, counts);
      const recMs = performance.now() - t2;
      if (workers === 1) base = simMs;
      rows.push(
        `| ${noise.label} | ${workers} | ${(simMs / 1000).toFixed(2)} | ${((circuits * 1000) / simMs).toFixed(1)} | ${(base / simMs).toFixed(2)}× | ${recMs.toFixed(0)} | ${((planMs + simMs + recMs) / 1000).toFixed(2)} | ${r.factors[0]!.fidelity.toFixed(5)} | ${r.layers[0]!.relativeError!.toExponential(2)} |`,
      );
    }
  }
  console.log(
    '| noise | workers | simulate s | circuits/s | speed-up | reconstruct ms | total s | fidelity P | ΔW rel. error |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  const meas = measurementCircuit(makeCircuit(P.circuit), 0, 0);
  const ry = meas.gates.filter((g) => g.name === 'ry').length;
  const before = qasmStats(meas, { basis: 'ibm' });
  const after = optimizeIbm(meas).stats;
  const oneQ = (s: { total: number; twoQubit: number; counts: Readonly<Record<string, number>> }) =>
    s.total - s.twoQubit - (s.counts.x ?? 0);
  console.log(
    `ibm basis, one program (${ry} RY, ${before.twoQubit} CZ): exporter ${before.total} gates (${(oneQ(before) / ry).toFixed(2)} per RY, depth ${before.depth}); ` +
      `optimised ${after.total} gates (${(oneQ(after) / ry).toFixed(2)} per RY, depth ${after.depth})`,
  );
}
