import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gateStats, isParamAngle, isRotation } from '../../src/circuit/ir.ts';
import { AdapterError, DataError } from '../../src/errors.ts';
import { encodeSafetensors, loadSafetensors } from '../../src/io/safetensors.ts';
import type { QuantumPeftLayer } from '../../src/peft/methods/quantum-peft.ts';
import { PeftModel } from '../../src/peft/model.ts';
import { CONFIG_FILE, loadPeftModel, saveAdapter, WEIGHTS_FILE } from '../../src/peft/serialize.ts';
import { parseQasm } from '../../src/qasm/index.ts';
import { skeletonModel } from '../../src/quant/adapter.ts';
import { CODES_TENSOR, quantizeAdapterDir } from '../../src/quant/index.ts';
import { columns } from '../../src/sim/simulate.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { createRng } from '../../src/util/random.ts';

const TARGETS = [
  { name: 'layers.0.q', in_features: 16, out_features: 16 },
  { name: 'layers.0.v', in_features: 16, out_features: 16 },
  // 12 = 3·4: a mixed-radix factor (one 4-qubit circuit with a qutrit on its top two wires)
  { name: 'head', in_features: 16, out_features: 12 },
];
const tmp = () => mkdtempSync(path.join(tmpdir(), 'qpeft-quant-'));
let src: string;

/** ΔW of every target, float64 copies, from an independent load of `dir` with the normal loader. */
function deltas(dir: string): Map<string, Float64Array> {
  const peft = loadPeftModel(skeletonModel(TARGETS), dir);
  const out = new Map<string, Float64Array>();
  for (const [t, layer] of peft.adapterLayers()) {
    const d = layer.deltaWeight();
    out.set(t, Float64Array.from(d.dataSync()));
    d.dispose();
  }
  peft.unload();
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
  const peft = new PeftModel(skeletonModel(TARGETS), {
    method: 'quantum-peft',
    rank: 2,
    layers: 2,
    targetModules: ['q', 'v', 'head'],
    angleInit: 'uniform',
  });
  const rng = createRng(4);
  for (const [t, layer] of peft.adapterLayers()) {
    const l = layer as QuantumPeftLayer;
    l.lambda.assign(tf.tensor1d([1 + rng.normal(), 0.5 * rng.normal()]));
    // one target's angles are tiny: the adaptive loader should prune them first
    if (t === 'layers.0.v') l.thetaQ.assign(tf.mul(l.thetaQ, 1e-4));
  }
  src = tmp();
  saveAdapter(peft, src);
  peft.unload();
});

describe('quantized adapter directories', () => {
  it('load with the normal loader, and the ΔW error falls with the bit width', () => {
    const ref = deltas(src);
    const errs: number[] = [];
    for (const bits of [1, 2, 3, 4, 8]) {
      const out = tmp();
      const r = quantizeAdapterDir(src, out, { bits });
      const got = deltas(out);
      let num = 0;
      let den = 0;
      for (const [t, a] of ref) {
        const b = got.get(t)!;
        a.forEach((x, i) => {
          num += (x - b[i]!) ** 2;
          den += x * x;
        });
      }
      const err = Math.sqrt(num / den);
      // the report's metric is the same quantity, computed before writing
      expect(r.metric).toBe('delta-w');
      expect(r.error).toBeCloseTo(err, 5);
      errs.push(err);
      const cfg = JSON.parse(readFileSync(path.join(out, CONFIG_FILE), 'utf8'));
      expect(cfg.quantization).toMatchObject({ scheme: 'uniform', bits });
      expect(statSync(path.join(out, WEIGHTS_FILE)).size).toBe(r.fileBytes);
    }
    for (let i = 1; i < errs.length; i++) expect(errs[i]!).toBeLessThan(errs[i - 1]!);
    // error ∝ step: INT8 / INT4 ≈ (2⁴ − 1)/(2⁸ − 1) ≈ 0.06 (angles here span the whole circle)
    expect(errs[4]! / errs[3]!).toBeLessThan(0.1);
    expect(errs[4]!).toBeLessThan(0.05);
  });

  it('drops pruned rotations from the QASM, which still equals the quantized adapter’s matrices', () => {
    const out = tmp();
    const r = quantizeAdapterDir(src, out, { bits: 2, adaptive: true, groupSize: 8 });
    expect(r.account.prunedGroups).toBeGreaterThan(0);
    expect(r.droppedGates).toBeGreaterThan(0);
    const peft = loadPeftModel(skeletonModel(TARGETS), out);
    let zeros = 0;
    let checked = 0;
    for (const [target, layer] of peft.adapterLayers()) {
      const circuits = layer.circuits();
      const factors = layer.orthogonalFactors();
      for (const c of circuits) {
        const file = path.join(out, 'circuits', `${target}.${c.name}.qasm`);
        const parsed = parseQasm(readFileSync(file, 'utf8'));
        // the RYs driven by a pruned (zero) angle, counted from the symbolic circuit: each template angle
        // drives one RY, or 2^k RY(±θ/2^k) in a k-controlled rotation of a one-circuit factor
        const zeroRy = c.circuit.gates.filter(
          (g) =>
            isRotation(g) && isParamAngle(g.angle) && c.theta[c.circuit.params.indexOf(g.angle.param)] === 0,
        ).length;
        zeros += zeroRy;
        const ry = gateStats(c.circuit).counts.ry ?? 0;
        expect(gateStats(parsed).counts.ry ?? 0).toBe(ry - zeroRy);
        const dim = 2 ** c.circuit.qubits;
        const want = columns(c.circuit, c.theta, dim);
        const got = columns(parsed, undefined, dim);
        for (let i = 0; i < want.data.length; i++)
          expect(Math.abs(want.data[i]! - got.data[i]!)).toBeLessThanOrEqual(1e-12);
        // and the adapter's own (float32) factor is the circuit's matrix read on the factor's rows
        const f = factors[c.name === 'P' ? 0 : 1]!.dataSync();
        const k = 2;
        const rows = c.rowBasis ?? Int32Array.from({ length: f.length / k }, (_, i) => i);
        for (let i = 0; i < rows.length; i++)
          for (let j = 0; j < k; j++)
            expect(Math.abs(f[i * k + j]! - got.data[rows[i]! * dim + rows[j]!]!)).toBeLessThan(1e-5);
        checked++;
      }
      for (const f of factors) f.dispose();
    }
    // one circuit per factor: q, v and head (16 → 12, a 12-wide mixed-radix Q) have two each
    expect(checked).toBe(2 + 2 + 2);
    expect(zeros).toBe(r.droppedGates);
    peft.unload();
  });

  it('a corrupt packed file fails to load with a DataError naming the problem', () => {
    const out = tmp();
    quantizeAdapterDir(src, out, { bits: 3 });
    const file = path.join(out, WEIGHTS_FILE);
    const st = loadSafetensors(file);
    const codes = st.tensors[CODES_TENSOR]!.data as Uint8Array;
    const tensors = {
      ...st.tensors,
      [CODES_TENSOR]: { ...st.tensors[CODES_TENSOR]!, shape: [codes.length - 2], data: codes.slice(2) },
    };
    writeFileSync(file, encodeSafetensors(tensors, st.metadata));
    expect(() => loadPeftModel(skeletonModel(TARGETS), out)).toThrow(DataError);
    expect(() => loadPeftModel(skeletonModel(TARGETS), out)).toThrow(
      /qpeft_quant.codes has \d+ bytes, expected \d+/,
    );
  });

  it('refuses to quantize a quantized adapter, and rejects bad widths', () => {
    const out = tmp();
    quantizeAdapterDir(src, out, { bits: 4 });
    expect(() => quantizeAdapterDir(out, tmp(), { bits: 4 })).toThrow(AdapterError);
    expect(() => quantizeAdapterDir(src, tmp(), { bits: 0 })).toThrow(
      /bits must be an integer in 1..8 .*got 0/,
    );
  });
});
