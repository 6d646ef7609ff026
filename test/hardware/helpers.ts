/** Shared fixtures for the hardware tests: exact counts from quantum-circuit, temp dirs, a tiny adapter. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCircuit } from '../../src/circuit/ir.ts';
import type { Histogram } from '../../src/hardware/counts.ts';
import { measurementCircuit } from '../../src/hardware/measurement.ts';
import type { MeasurementPlan } from '../../src/hardware/plan.ts';
import { referenceMatrix, referenceState } from '../helpers/reference.ts';

/**
 * Counts proportional to the exact outcome probabilities of every plan circuit, computed by quantum-circuit
 * (a second simulator) running the IR of the measured program from |0…0⟩: round(p · 2^40) per outcome.
 */
export function exactCounts(plan: MeasurementPlan): Map<string, Histogram> {
  const out = new Map<string, Histogram>();
  for (const c of plan.circuits) {
    const f = plan.factors.find((x) => x.id === c.circuit)!;
    const meas = measurementCircuit(makeCircuit(f.circuit), c.prepared, c.setting);
    const m = referenceState(meas);
    const h: Histogram = new Map();
    for (let j = 0; j < m.dim; j++) {
      const p = m.re[j]! ** 2 + m.im[j]! ** 2;
      const n = Math.round(p * 2 ** 40);
      if (n > 0) h.set(j, n);
    }
    out.set(c.id, h);
  }
  return out;
}

/** quantum-circuit's first K columns of a bound circuit, row-major N×K (real part; the circuits are real). */
export function referenceColumns(circuit: Parameters<typeof referenceMatrix>[0], k: number): Float64Array {
  const m = referenceMatrix(circuit);
  const out = new Float64Array(m.dim * k);
  for (let i = 0; i < m.dim; i++) for (let j = 0; j < k; j++) out[i * k + j] = m.re[i * m.dim + j]!;
  return out;
}

const dirs: string[] = [];
/** A fresh temporary directory, removed by `cleanup`. */
export function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'qpeft-hw-'));
  dirs.push(d);
  return d;
}
export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
