/**
 * Adapter folders are downloaded data. Each case edits a real saved adapter as an attacker would and checks
 * the refusal: typed error, one line naming the file, bounded memory, the folder unchanged and the base
 * model untouched (issue 15, items 1, 2, 8, 10).
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdapterError, DataError, FileError, InputError, UnsafePathError } from '../../src/errors.ts';
import { QUANT_METADATA_KEY } from '../../src/io/quant/format.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.ts';
import type { Module } from '../../src/nn/module.ts';
import {
  CONFIG_FILE,
  loadAdapter,
  loadPeftModel,
  matchTargets,
  PeftModel,
  saveAdapter,
  WEIGHTS_FILE,
} from '../../src/peft/index.ts';
import { skeletonModel } from '../../src/quant/adapter.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { maxDiff, randn, Tiny } from '../peft/helpers.ts';
import { cleanTmp, expectRefusal, snapshot, tmpDir } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(cleanTmp);

const QPEFT = { method: 'quantum-peft', rank: 2, layers: 1, targetModules: ['q', 'v'] };

/** A saved, slightly trained quantum-peft adapter of Tiny(16, 8). */
function savedAdapter(config: Record<string, unknown> = QPEFT): string {
  const model = new Tiny(16, 8);
  const peft = new PeftModel(model, config);
  for (const [, layer] of peft.adapterLayers())
    for (const [, v] of layer.namedParameters()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 7));
  const dir = tmpDir();
  saveAdapter(peft, dir);
  peft.unload();
  model.dispose();
  return dir;
}

function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const file = path.join(dir, CONFIG_FILE);
  const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(c);
  writeFileSync(file, JSON.stringify(c));
}

/** The base model's state: every trainable flag and a forward pass on a fixed input. */
function baseState(model: Tiny): { trainable: number; flags: boolean[]; out: Float32Array } {
  const x = randn(3, 16, 5);
  const out = model.forward(x);
  const s = {
    trainable: model.countParameters().trainable,
    flags: model.namedParameters().map(([, v]) => v.trainable),
    out: Float32Array.from(out.dataSync()),
  };
  tf.dispose([x, out]);
  return s;
}

/** Load `dir` into a fresh Tiny expecting a refusal; the folder and the base model must be unchanged. */
function refuseLoad<E extends Error>(
  dir: string,
  cls: abstract new (...args: never[]) => E,
  pattern: RegExp,
): E {
  const model = new Tiny(16, 8);
  const before = baseState(model);
  const disk = snapshot(dir);
  const e = expectRefusal(() => loadPeftModel(model, dir), cls, pattern);
  expect(snapshot(dir)).toEqual(disk);
  const after = baseState(model);
  expect(after.trainable).toBe(before.trainable);
  expect(after.flags).toEqual(before.flags);
  expect(maxDiff(after.out, before.out)).toBe(0);
  expect(model.layers.items[0]!.q.hook).toBeNull();
  model.dispose();
  return e;
}

describe('item 1: paths in an adapter folder stay inside it, reads are bounded', () => {
  it('an absolute qasmFile (/etc/passwd) is refused without reading it', () => {
    const dir = savedAdapter();
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).qasmFile = '/etc/passwd';
    });
    const e = refuseLoad(
      dir,
      UnsafePathError,
      /adapter_config\.json: config\.qasmFile: the path "\/etc\/passwd" is absolute/,
    );
    expect(e.message).not.toMatch(/root/);
  });

  it('a qasmFile climbing out with .. is refused', () => {
    const dir = savedAdapter();
    writeFileSync(path.join(path.dirname(dir), 'outside.qasm'), 'OPENQASM 3.0; qubit[4] q;');
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).qasmFile = 'circuits/../../outside.qasm';
    });
    refuseLoad(
      dir,
      UnsafePathError,
      /adapter_config\.json: config\.qasmFile: .*climbs out of the adapter folder/,
    );
  });

  it('a symbolic link inside the folder that leads out (to /etc/passwd, /dev/zero) is refused', () => {
    for (const target of ['/etc/passwd', '/dev/zero']) {
      const dir = savedAdapter();
      symlinkSync(target, path.join(dir, 'circuits', 'evil.qasm'));
      editConfig(dir, (c) => {
        (c.config as Record<string, unknown>).qasmFile = 'circuits/evil.qasm';
      });
      refuseLoad(dir, UnsafePathError, /leads out of the adapter folder \(through a symbolic link/);
    }
  });

  it('a FIFO inside the folder is refused by kind, without waiting for a writer', () => {
    const dir = savedAdapter();
    execFileSync('mkfifo', [path.join(dir, 'pipe.qasm')]);
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).qasmFile = 'pipe.qasm';
    });
    refuseLoad(
      dir,
      FileError,
      /pipe\.qasm" : it is a FIFO|pipe\.qasm": it is a FIFO, expected a regular OpenQASM file/,
    );
  });

  it('a 40 MB (sparse) qasmFile inside the folder is refused by its size before it is read', () => {
    const dir = savedAdapter();
    const big = path.join(dir, 'big.qasm');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 40 * 1024 * 1024);
    closeSync(fd);
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).qasmFile = 'big.qasm';
    });
    refuseLoad(dir, FileError, /big\.qasm" is 40\.0 MiB; an OpenQASM file may be at most 16\.0 MiB/);
  });

  it('a qasmFile inside the folder is read (the legitimate use still works)', () => {
    const dir = savedAdapter();
    mkdirSync(path.join(dir, 'defs'));
    // the saved circuits of this adapter are for 16 features: 4 qubits for P, 4 for Q
    const text =
      'OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] a;\ninput float[64] b;\nqubit[4] q;\nry(a) q[0];\ncz q[0], q[1];\nry(b) q[1];\n';
    writeFileSync(path.join(dir, 'defs', 'c.qasm'), text);
    editConfig(dir, (c) => {
      const config = c.config as Record<string, unknown>;
      config.qasmFile = 'defs/c.qasm';
      config.targetModules = ['layers.0.q'];
      c.targets = (c.targets as { name: string }[]).filter((t) => t.name === 'layers.0.q');
    });
    // the tensors no longer match (2 angles instead of the template's): a typed mismatch, not a read error
    refuseLoad(dir, AdapterError, /does not match the config|expected shape/);
  });
});

describe('item 2: declared sizes are checked before anything is allocated', () => {
  it('a qpeft_quant header declaring a [1e308, 1e308] tensor is a DataError, at once', () => {
    const dir = savedAdapter();
    const file = path.join(dir, WEIGHTS_FILE);
    const { tensors } = decodeSafetensors(readFileSync(file));
    const name = Object.keys(tensors).find((k) => k.endsWith('lambda'))!;
    const header = {
      version: 1,
      scheme: 'adaptive',
      bits: 4,
      group_size: 128,
      streams: [{ kind: 'real', period: null, tensors: [{ name, shape: [1e308, 1e308] }] }],
    };
    const rest = Object.fromEntries(Object.entries(tensors).filter(([k]) => k !== name));
    writeFileSync(
      file,
      encodeSafetensors(
        {
          ...rest,
          'qpeft_quant.codes': { shape: [0], data: new Uint8Array(0) },
          'qpeft_quant.side': { shape: [0], data: new Uint8Array(0) },
          'qpeft_quant.widths': { shape: [1], data: new Uint8Array(1) },
        },
        { [QUANT_METADATA_KEY]: JSON.stringify(header) },
      ),
    );
    expect(readFileSync(file).length).toBeLessThan(8000);
    refuseLoad(dir, DataError, /adapter_model\.safetensors: quantized adapter weights: bad tensor entry/);
    // a shape of safe integers whose product is huge, pruned (0-bit groups cost nothing in the file)
    header.streams[0]!.tensors[0]!.shape = [2 ** 26, 2 ** 26];
    writeFileSync(
      file,
      encodeSafetensors(
        {
          ...rest,
          'qpeft_quant.codes': { shape: [0], data: new Uint8Array(0) },
          'qpeft_quant.side': { shape: [0], data: new Uint8Array(0) },
          'qpeft_quant.widths': { shape: [1], data: new Uint8Array(1) },
        },
        { [QUANT_METADATA_KEY]: JSON.stringify(header) },
      ),
    );
    refuseLoad(dir, DataError, /declares .* as \[67108864, 67108864\], the adapter's tensor is \[2\]/);
  });

  it('config.layers = 1000000 and rank = 1e9 are refused from the closed-form count', () => {
    const dir = savedAdapter();
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).layers = 1_000_000;
    });
    refuseLoad(
      dir,
      AdapterError,
      /would have \d+ trainable parameters; an adapter on this layer may have at most 65536/,
    );
    const lora = savedAdapter({ method: 'lora', r: 2, targetModules: ['q'] });
    editConfig(lora, (c) => {
      // LoRA folders are saved in PEFT's schema (r at the top level); qpeft's native schema nests it in config
      if (c.config === undefined) c.r = 1e9;
      else (c.config as Record<string, unknown>).r = 1e9;
    });
    refuseLoad(
      lora,
      AdapterError,
      /lora on layers\.0\.q \(16→16\) would have 32000000000 trainable parameters/,
    );
  });

  it('a ReDoS target pattern (.?){40}.{40} matches in linear time, with full-match semantics', () => {
    // names of length 30..90: the pattern matches exactly the names of 40..80 characters
    const targets = [30, 39, 40, 60, 80, 81, 90].map((n, i) => ({
      name: `m${i}_${'x'.repeat(n - 3)}`,
      in_features: 2,
      out_features: 2,
    }));
    const model = skeletonModel(targets);
    const got = matchTargets(model, '(.?){40}.{40}');
    expect(got).toEqual(targets.filter((t) => t.name.length >= 40 && t.name.length <= 80).map((t) => t.name));
    // as a saved config too
    const dir = savedAdapter();
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).targetModules = '(.?){40}.{40}';
    });
    refuseLoad(dir, AdapterError, /matched no Linear module/);
  });

  it('patterns no linear-time engine can run (backreferences, lookaround) are refused clearly', () => {
    const model = skeletonModel([{ name: 'a.q', in_features: 2, out_features: 2 }]);
    expectRefusal(() => matchTargets(model, '(a)\\1'), InputError, /backreferences are not supported/);
    expectRefusal(() => matchTargets(model, '(?=a).*'), InputError, /lookaround/);
    expectRefusal(() => matchTargets(model, '(a{1000}){1000}'), InputError, /too large/);
  });
});

describe('item 8: hostile safetensors weights', () => {
  it('λ = 3e38 (finite, absurd) and NaN values do not load', () => {
    for (const [value, cls, pattern] of [
      [3e38, AdapterError, /lambda value 0 is 3\.\d+e\+38 \(expected finite numbers within ±1000000/],
      [Number.NaN, AdapterError, /value 0 is NaN \(expected finite numbers\)/],
    ] as const) {
      const dir = savedAdapter();
      const file = path.join(dir, WEIGHTS_FILE);
      const { tensors, metadata } = decodeSafetensors(readFileSync(file));
      const name = Object.keys(tensors).find((k) => k.endsWith('lambda'))!;
      (tensors[name]!.data as Float32Array)[0] = value;
      writeFileSync(file, encodeSafetensors(tensors, metadata));
      refuseLoad(dir, cls, pattern);
    }
  });

  it('duplicate keys, a null entry and trailing bytes in the weights are refused', () => {
    const dir = savedAdapter();
    const file = path.join(dir, WEIGHTS_FILE);
    const good = readFileSync(file);
    writeFileSync(file, Buffer.concat([good, Buffer.from([0, 0, 0, 0])]));
    refuseLoad(dir, AdapterError, /adapter_model\.safetensors: .*4 trailing bytes after the last tensor/);
    const n = Number(good.readBigUInt64LE(0));
    const header = good.subarray(8, 8 + n).toString('utf8');
    const withNull = header.replace(/^\{/, '{"evil":null,');
    const bytes = Buffer.concat([Buffer.alloc(8), Buffer.from(withNull), good.subarray(8 + n)]);
    bytes.writeBigUInt64LE(BigInt(Buffer.byteLength(withNull)), 0);
    writeFileSync(file, bytes);
    refuseLoad(dir, AdapterError, /tensor "evil": expected \{dtype, shape, data_offsets\}, got null/);
  });

  it('a failed loadAdapter into an existing PeftModel leaves it as it was', () => {
    const dir = savedAdapter();
    editConfig(dir, (c) => {
      (c.config as Record<string, unknown>).qasmFile = '/etc/passwd';
    });
    const model = new Tiny(16, 8);
    const peft = new PeftModel(model, { method: 'lora', r: 2, targetModules: ['q'] });
    const flags = model.namedParameters().map(([, v]) => v.trainable);
    expectRefusal(() => loadAdapter(peft, dir, 'second'), UnsafePathError, /is absolute/);
    expect(peft.adapterNames).toEqual(['default']);
    expect(model.namedParameters().map(([, v]) => v.trainable)).toEqual(flags);
    peft.unload();
  });
});

describe('item 10: a failed loadPeftModel leaves the base model as it was', () => {
  it('trainable flags, hooks and outputs are restored after a failure in the weights', () => {
    const dir = savedAdapter();
    const file = path.join(dir, WEIGHTS_FILE);
    const { tensors, metadata } = decodeSafetensors(readFileSync(file));
    const name = Object.keys(tensors).find((k) => k.endsWith('theta_q'))!;
    tensors[name] = { ...tensors[name]!, shape: [1], data: new Float32Array(1) };
    writeFileSync(file, encodeSafetensors(tensors, metadata));
    const model: Module = new Tiny(16, 8);
    expect(model.countParameters().trainable).toBeGreaterThan(0);
    refuseLoad(dir, AdapterError, /expected shape/);
  });
});
