/** Save / load / LoRA export: file layout, exact reload, clear errors on bad files, ΔW rebuilt from the export. */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/errors.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import {
  CONFIG_FILE,
  exportLora,
  loadAdapter,
  loadPeftModel,
  PeftModel,
  saveAdapter,
  WEIGHTS_FILE,
} from '../../src/peft/index.ts';
import { parseQasm } from '../../src/qasm/index.ts';
import { columns, subspaceColumns } from '../../src/sim/simulate.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { maxDiff, randn, Tiny, tempDirs, trainStep } from './helpers.ts';

const tmp = tempDirs('qpeft-ser-');
beforeAll(async () => {
  await initBackend('wasm');
});

/** A trained adapter (a few steps so that nothing is at its initial value). */
function trained(config: Record<string, unknown>, dims: [number, number] = [16, 8]) {
  const model = new Tiny(...dims);
  const peft = new PeftModel(model, config);
  const x = randn(5, dims[0], 3);
  const opt = tf.train.adam(0.05);
  for (let i = 0; i < 3; i++)
    trainStep(() => model.forward(x), peft.trainableVariables(), opt, randn(5, dims[1], 4));
  opt.dispose();
  return { model, peft, x };
}

describe('saveAdapter / loadPeftModel', () => {
  it('writes the Hugging Face layout and reloads the exact outputs', () => {
    const { model, peft, x } = trained({
      method: 'quantum-peft',
      rank: 3,
      layers: 1,
      targetModules: ['q', 'head'],
    });
    const dir = tmp();
    saveAdapter(peft, dir);
    const cfg = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
    expect(cfg.peft_type).toBe('QUANTUM_PEFT');
    expect(cfg.targets.map((t: { name: string }) => t.name)).toEqual(['layers.0.q', 'layers.1.q', 'head']);
    const bytes = readFileSync(path.join(dir, WEIGHTS_FILE));
    // real safetensors: 8-byte little-endian header length, then JSON
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    expect(Object.keys(header)).toContain('base_model.model.layers.0.q.theta_p');
    expect(header['base_model.model.head.lambda']).toMatchObject({ dtype: 'F32', shape: [3] });
    const fresh = new Tiny();
    loadPeftModel(fresh, dir);
    expect(Array.from(fresh.forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));
  });

  it('loads a second named adapter into an existing PeftModel', () => {
    const { model, peft, x } = trained({ method: 'lora', r: 2, targetModules: ['v'] });
    const dir = tmp();
    saveAdapter(peft, dir);
    const want = model.forward(x);
    const other = new PeftModel(new Tiny(), { method: 'bitfit', targetModules: ['head'] });
    loadAdapter(other, dir, 'fromdisk');
    expect(other.adapterNames).toEqual(['default', 'fromdisk']);
    other.setAdapter('fromdisk');
    expect(maxDiff(other.model.forward(x), want)).toBe(0);
  });

  it('refuses truncated, corrupt and mismatched files with AdapterError', () => {
    const { peft } = trained({ method: 'quantum-peft', rank: 2, layers: 1, targetModules: ['q'] });
    const dir = tmp();
    saveAdapter(peft, dir);
    const weights = readFileSync(path.join(dir, WEIGHTS_FILE));
    const config = readFileSync(path.join(dir, CONFIG_FILE), 'utf8');
    const expectError = (re: RegExp, model = new Tiny()) => {
      expect(() => loadPeftModel(model, dir)).toThrow(AdapterError);
      expect(() => loadPeftModel(model, dir)).toThrow(re);
      // a failed load leaves the model untouched
      expect(model.namedParameters().some(([n]) => n.includes('adapters'))).toBe(false);
    };

    writeFileSync(path.join(dir, WEIGHTS_FILE), weights.subarray(0, weights.length - 10));
    expectError(/adapter_model\.safetensors.*(truncated|do not fit)/);
    writeFileSync(path.join(dir, WEIGHTS_FILE), weights.subarray(0, 5));
    expectError(/at least 8 bytes/);
    const nan = Buffer.from(weights);
    nan.writeFloatLE(Number.NaN, nan.length - 4);
    writeFileSync(path.join(dir, WEIGHTS_FILE), nan);
    expectError(/expected finite numbers/);
    writeFileSync(path.join(dir, WEIGHTS_FILE), weights);

    writeFileSync(path.join(dir, CONFIG_FILE), config.slice(0, 40));
    expectError(/not valid JSON/);
    writeFileSync(path.join(dir, CONFIG_FILE), config.replace('"layers": 1', '"layers": 2'));
    expectError(/missing .*theta_p|expected shape/);
    writeFileSync(path.join(dir, CONFIG_FILE), config);
    expectError(/saved for a 16→16 layer, this model's is 32→32/, new Tiny(32, 8));
    rmSync(path.join(dir, CONFIG_FILE));
    expectError(/no adapter_config\.json/);
  });
});

describe('circuits saved as OpenQASM 3', () => {
  it('writes each factor circuit with trained angles bound; simulating the file gives P and Q', () => {
    const { peft } = trained(
      { method: 'quantum-peft', rank: 3, layers: 1, targetModules: ['head'] },
      [12, 8],
    );
    const dir = tmp();
    saveAdapter(peft, dir);
    const cfg = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
    // one program per factor: 12 = 3·2² is a mixed-radix circuit on 4 qubits, 8 a 3-qubit circuit
    expect(cfg.qasm_files).toEqual(['circuits/head.P.qasm', 'circuits/head.Q.qasm']);
    expect(cfg.config.factorForm).toBe('auto');
    const [pTensor, qTensor] = peft.adapterLayer('head').orthogonalFactors();
    const q = parseQasm(readFileSync(path.join(dir, 'circuits/head.Q.qasm'), 'utf8'));
    expect(q.params).toEqual([]);
    expect(maxDiff(qTensor!, columns(q, undefined, 3).data)).toBeLessThan(1e-6);
    // P: rows l·4 + j of the factor are the basis states gray(l)·4 + j of the 4-qubit register
    const p = parseQasm(readFileSync(path.join(dir, 'circuits/head.P.qasm'), 'utf8'));
    expect(p.qubits).toBe(4);
    const rows = Int32Array.from({ length: 12 }, (_, r) => ((r >> 2) ^ (r >> 3)) * 4 + (r % 4));
    expect(maxDiff(pTensor!, subspaceColumns(p, undefined, rows, 3).data)).toBeLessThan(1e-6);
  });

  it('loads an adapter saved before mixed radix (no factorForm) as direct sums', () => {
    const { model, peft, x } = trained(
      { method: 'quantum-peft', rank: 2, layers: 1, factorForm: 'direct-sum', targetModules: ['head'] },
      [12, 8],
    );
    const want = model.forward(x);
    const dir = tmp();
    saveAdapter(peft, dir);
    const file = path.join(dir, CONFIG_FILE);
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    delete cfg.config.factorForm;
    writeFileSync(file, JSON.stringify(cfg));
    peft.unload();
    const fresh = new Tiny(12, 8);
    const loaded = loadPeftModel(fresh, dir);
    // θ_P of the 12-wide direct sum (8 + 4 at L = 1: 2·7 + 1 + 4 = 19 angles) fits only as a direct sum
    expect(
      loaded
        .adapterLayer('head')
        .namedParameters()
        .find(([n]) => n === 'theta_p')![1].shape,
    ).toEqual([19]);
    expect(maxDiff(fresh.forward(x), want.dataSync())).toBeLessThan(1e-6);
  });

  it('reads an adapter circuit from a QASM 3 file once; the saved adapter does not need the file', () => {
    const dir = tmp();
    const file = path.join(dir, 'adapter.qasm');
    writeFileSync(
      file,
      'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] a;\ninput float[64] b;\nqubit[4] q;\nry(a) q[0];\ncz q[0], q[3];\nry(b) q[3];\n',
    );
    const { model, peft, x } = trained({
      method: 'quantum-peft',
      rank: 2,
      qasmFile: file,
      targetModules: ['q'],
    });
    expect(peft.countParameters().trainable).toBe(2 * (2 + 2 + 2));
    const out = path.join(dir, 'saved');
    saveAdapter(peft, out);
    rmSync(file);
    const fresh = new Tiny();
    loadPeftModel(fresh, out);
    expect(Array.from(fresh.forward(x).dataSync())).toEqual(Array.from(model.forward(x).dataSync()));
    expect(
      () =>
        new PeftModel(new Tiny(), { method: 'quantum-peft', rank: 2, qasmFile: file, targetModules: ['q'] }),
    ).toThrow(/qasmFile: cannot read .*ENOENT/);
  });

  it('the shipped circuits/adapters/two-design-4q-2l.qasm defines the same adapter as the template', () => {
    const file = fileURLToPath(new URL('../../circuits/adapters/two-design-4q-2l.qasm', import.meta.url));
    const common = {
      method: 'quantum-peft',
      rank: 3,
      angleInit: 'uniform',
      seed: 5,
      targetModules: ['layers.0.q'],
    };
    const fromFile = new PeftModel(new Tiny(), { ...common, qasmFile: file });
    const fromTemplate = new PeftModel(new Tiny(), { ...common, layers: 2 });
    expect(fromFile.countParameters().trainable).toBe(fromTemplate.countParameters().trainable);
    const [p1, q1] = fromFile.adapterLayer('layers.0.q').orthogonalFactors();
    const [p2, q2] = fromTemplate.adapterLayer('layers.0.q').orthogonalFactors();
    expect(maxDiff(p1!, p2!)).toBeLessThan(1e-6);
    expect(maxDiff(q1!, q2!)).toBeLessThan(1e-6);
    tf.dispose([p1!, q1!, p2!, q2!]);
  });

  it('refuses an OpenQASM adapter circuit with complex gates', () => {
    const text =
      'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] a;\nqubit[4] q;\nry(a) q[0];\nrx(a) q[1];\n';
    expect(
      () => new PeftModel(new Tiny(), { method: 'quantum-peft', rank: 2, qasm: text, targetModules: ['q'] }),
    ).toThrow(/adapter circuits must be real .* gate 1 is rx/);
  });
});

describe('exportLora', () => {
  const rows: [string, Record<string, unknown>, [number, number]][] = [
    [
      'quantum-peft',
      { method: 'quantum-peft', rank: 3, alpha: 1.5, layers: 2, targetModules: ['q', 'head'] },
      [16, 8],
    ],
    [
      'quantum-peft direct sum',
      { method: 'quantum-peft', rank: 2, layers: 1, targetModules: ['head'] },
      [12, 10],
    ],
    ['quantum-peft-lie', { method: 'quantum-peft-lie', rank: 2, alpha: 3, targetModules: ['v'] }, [16, 8]],
    ['lora', { method: 'lora', r: 4, loraAlpha: 16, targetModules: ['q'] }, [16, 8]],
    [
      'adalora',
      { method: 'adalora', initR: 4, targetR: 2, loraAlpha: 8, totalStep: 10, targetModules: ['head'] },
      [16, 8],
    ],
  ];
  for (const [name, config, dims] of rows) {
    it(`${name}: ΔW rebuilt from the exported file equals the merged ΔW (1e-6)`, () => {
      const { model, peft } = trained(config, dims);
      const dir = tmp();
      exportLora(peft, dir);
      const cfg = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
      expect(cfg).toMatchObject({ peft_type: 'LORA', bias: 'none', fan_in_fan_out: false });
      expect(cfg.target_modules).toEqual(peft.targets());
      const { tensors } = decodeSafetensors(readFileSync(path.join(dir, WEIGHTS_FILE)));
      const before = new Map(
        peft
          .targets()
          .map((t) => [
            t,
            Float32Array.from((model.getModule(t) as never as { weight: tf.Variable }).weight.dataSync()),
          ]),
      );
      peft.merge();
      for (const t of peft.targets()) {
        const a = tensors[`base_model.model.${t}.lora_A.weight`]!;
        const b = tensors[`base_model.model.${t}.lora_B.weight`]!;
        const [r, dIn] = a.shape as [number, number];
        const dOut = b.shape[0]!;
        expect(b.shape).toEqual([dOut, r]);
        const rr = cfg.rank_pattern[t] ?? cfg.r;
        const alpha = cfg.alpha_pattern[t] ?? cfg.lora_alpha;
        expect(rr).toBe(r);
        // PyTorch ΔW (d_out × d_in) = (lora_alpha / r)·B·A; ours (d_in × d_out) is its transpose
        const merged = (model.getModule(t) as never as { weight: tf.Variable }).weight.dataSync();
        const w0 = before.get(t)!;
        let err = 0;
        for (let o = 0; o < dOut; o++) {
          for (let i = 0; i < dIn; i++) {
            let s = 0;
            for (let k = 0; k < r; k++) s += b.data[o * r + k]! * a.data[k * dIn + i]!;
            err = Math.max(err, Math.abs((alpha / r) * s - (merged[i * dOut + o]! - w0[i * dOut + o]!)));
          }
        }
        expect(err).toBeLessThan(1e-6);
      }
    });
  }

  it('refuses methods without a low-rank ΔW', () => {
    const { peft } = trained({ method: 'houlsby', bottleneck: 2, targetModules: ['head'] });
    const dir = tmp();
    expect(() => exportLora(peft, dir)).toThrow(/houlsby adapters have no low-rank/);
    expect(existsSync(path.join(dir, CONFIG_FILE))).toBe(false);
  });
});
