/**
 * Fuzzing the adapter-folder loader (issue 15): fast-check mutates the config JSON, the safetensors header
 * JSON and the tensor bytes of a real saved adapter. Whatever the mutation, `loadPeftModel` either throws a
 * typed `QpeftError` with a one-line message and leaves the base model exactly as it was, or loads an
 * adapter whose values are the file's (finite, within the bound) and whose outputs are finite; unloading it
 * gives the base back. Never a crash, a hang or an untyped error.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QpeftError } from '../../src/errors.ts';
import { CONFIG_FILE, loadPeftModel, PeftModel, saveAdapter, WEIGHTS_FILE } from '../../src/peft/index.ts';
import { MAX_PARAM_ABS } from '../../src/peft/serialize.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { randn, Tiny } from '../peft/helpers.ts';
import { cleanTmp, tmpDir } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(cleanTmp);

interface Source {
  config: string;
  weights: Buffer;
}

function saved(config: Record<string, unknown>): Source {
  const model = new Tiny(8, 4);
  const peft = new PeftModel(model, config);
  for (const [, layer] of peft.adapterLayers())
    for (const [, v] of layer.namedParameters()) v.assign(tf.randomNormal(v.shape, 0, 0.3, 'float32', 3));
  const dir = tmpDir();
  saveAdapter(peft, dir);
  peft.unload();
  model.dispose();
  return {
    config: readFileSync(path.join(dir, CONFIG_FILE), 'utf8'),
    weights: readFileSync(path.join(dir, WEIGHTS_FILE)),
  };
}

let sources: Source[] = [];
const model = new Tiny(8, 4);
const x = randn(2, 8, 9);
let baseOut: Float32Array;

beforeAll(() => {
  sources = [
    saved({ method: 'quantum-peft', rank: 2, layers: 1, targetModules: ['q', 'v'] }),
    saved({ method: 'lora', r: 2, targetModules: '.*\\.q' }),
  ];
  const y = model.forward(x);
  baseOut = Float32Array.from(y.dataSync());
  y.dispose();
});

/** Paths into a JSON value (keys and indices), for the mutators. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(v)) for (const [i, e] of v.entries()) paths(e, [...prefix, i], out);
  else if (v && typeof v === 'object') for (const [k, e] of Object.entries(v)) paths(e, [...prefix, k], out);
  return out;
}

/** `root` with the value at `at` replaced (or deleted when `value` is undefined). */
function setAt(root: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = Array.isArray(root) ? [...root] : { ...(root as Record<string, unknown>) };
  const [k, ...rest] = at;
  const c = copy as Record<string | number, unknown>;
  if (rest.length === 0 && value === undefined) delete c[k!];
  else c[k!] = setAt(c[k!], rest, value);
  return copy;
}

const jsonEdit = fc.record({
  pick: fc.nat(),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      undefined,
      null,
      -1,
      0,
      1e308,
      1e6,
      2 ** 31,
      '../../etc/passwd',
      '/dev/zero',
      '(.?){40}.{40}',
    ),
  ),
});

/** Load the mutated folder; check the outcome (see the file comment). */
function check(config: string, weights: Uint8Array): void {
  const dir = tmpDir('qpeft-fuzz-');
  writeFileSync(path.join(dir, CONFIG_FILE), config);
  writeFileSync(path.join(dir, WEIGHTS_FILE), weights);
  // a successful load and unload leaves the base frozen (as PEFT's unload does): compare with this call's start
  const flags = model.namedParameters().map(([, v]) => v.trainable);
  try {
    let peft: PeftModel | null = null;
    try {
      peft = loadPeftModel(model, dir);
    } catch (e) {
      if (!(e instanceof QpeftError)) throw new Error(`untyped error: ${(e as Error)?.stack ?? e}`);
      expect(e.message.includes('\n')).toBe(false);
    }
    if (peft) {
      for (const [, layer] of peft.adapterLayers())
        for (const [, v] of layer.namedParameters())
          for (const value of v.dataSync()) expect(Math.abs(value)).toBeLessThanOrEqual(MAX_PARAM_ABS);
      const y = model.forward(x);
      expect(y.dataSync().every(Number.isFinite)).toBe(true);
      y.dispose();
      peft.unload();
    }
    // the base is as it was, whether the load failed or the adapter was unloaded
    const y = model.forward(x);
    expect(Array.from(y.dataSync())).toEqual(Array.from(baseOut));
    y.dispose();
    if (!peft) expect(model.namedParameters().map(([, v]) => v.trainable)).toEqual(flags);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Re-frame a safetensors file with a new header text (no padding: the reader must accept that too). */
function withHeader(bytes: Buffer, header: string): Buffer {
  const n = Number(bytes.readBigUInt64LE(0));
  const h = Buffer.from(header, 'utf8');
  const out = Buffer.alloc(8 + h.length + bytes.length - 8 - n);
  out.writeBigUInt64LE(BigInt(h.length), 0);
  h.copy(out, 8);
  bytes.copy(out, 8 + h.length, 8 + n);
  return out;
}

describe('fuzz: mutated adapter folders give typed errors or a correct load, never a crash', () => {
  it('config JSON edits', () => {
    fc.assert(
      fc.property(
        fc.nat(sources.length - 1),
        fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
        (s, edits) => {
          const src = sources[s]!;
          let c: unknown = JSON.parse(src.config);
          for (const e of edits) {
            const ps = paths(c);
            c = setAt(c, ps[e.pick % ps.length]!, e.value);
          }
          check(JSON.stringify(c) ?? 'null', src.weights);
        },
      ),
      { numRuns: 120, seed: 1515 },
    );
  });

  it('safetensors header JSON edits', () => {
    fc.assert(
      fc.property(
        fc.nat(sources.length - 1),
        fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
        (s, edits) => {
          const src = sources[s]!;
          const n = Number(src.weights.readBigUInt64LE(0));
          let h: unknown = JSON.parse(src.weights.subarray(8, 8 + n).toString('utf8'));
          for (const e of edits) {
            const ps = paths(h);
            h = setAt(h, ps[e.pick % ps.length]!, e.value);
          }
          check(src.config, withHeader(src.weights, JSON.stringify(h) ?? 'null'));
        },
      ),
      { numRuns: 120, seed: 1515 },
    );
  });

  it('tensor and header bytes flipped', () => {
    fc.assert(
      fc.property(
        fc.nat(sources.length - 1),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (s, flips) => {
          const src = sources[s]!;
          const b = Buffer.from(src.weights);
          for (const [i, v] of flips) b[i % b.length] = v;
          check(src.config, b);
        },
      ),
      { numRuns: 150, seed: 1515 },
    );
  });
});
