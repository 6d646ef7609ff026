/**
 * Quantizing a saved adapter directory (src/peft's layout) into a quantized adapter directory that the
 * normal loader (`loadPeftModel` / `loadAdapter`) loads: the same `adapter_config.json` (plus a
 * `quantization` record), an `adapter_model.safetensors` whose trainable tensors are packed (format.ts; the
 * loader decodes them through `dequantizeWeights`), frozen tensors kept in float32, and the circuits as
 * OpenQASM 3 with the quantized angles bound and pruned (identity) rotations dropped.
 *
 * Which tensors are angles: a quantum method's `theta…` tensors when every circuit of the layer uses its
 * parameters with integer scales (then 4π is a period of each parameter); everything else is `real`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isParamAngle, isRotation } from '../circuit/ir.ts';
import { AdapterError, describe } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { dequantizeWeights, encodeQuantized, isQuantized } from '../io/quant/format.ts';
import {
  type BitAccount,
  bitAccount,
  type ParamTensor,
  type QuantOptions,
  quantizeParams,
} from '../io/quant/quantize.ts';
import { encodeSafetensors, loadSafetensors, type StTensor } from '../io/safetensors.ts';
import { Linear } from '../nn/linear.ts';
import { Module } from '../nn/module.ts';
import type { AdapterLayer } from '../peft/adapter.ts';
import type { PeftModel } from '../peft/model.ts';
import { CONFIG_FILE, loadPeftModel, readAdapterConfig, WEIGHTS_FILE } from '../peft/serialize.ts';
import { exportQasm } from '../qasm/index.ts';
import { tf } from '../tf/backend.ts';
import { pruneCircuit } from './circuits.ts';

const PREFIX = 'base_model.model.';

/** A bare module tree holding `Linear` layers at the given dotted names (enough for an adapter to load). */
class Node extends Module {}

/** A model skeleton with a `Linear` of the saved shape at every target, so a saved adapter can be loaded alone. */
export function skeletonModel(
  targets: readonly { name: string; in_features: number; out_features: number }[],
): Module {
  const root = new Node();
  for (const t of targets) {
    const parts = t.name.split('.');
    let m: Module = root;
    for (const p of parts.slice(0, -1)) {
      const child = m.namedChildren().find(([n]) => n === p)?.[1];
      m = child ?? m.setModule(p, new Node());
    }
    m.setModule(
      parts.at(-1)!,
      new Linear({ inFeatures: t.in_features, outFeatures: t.out_features, bias: false }),
    );
  }
  return root;
}

/**
 * Whether 4π is a period of every parameter of the layer's circuits: declared by the layer (`periodic`), or
 * every parameter enters its gates with an integer scale.
 */
function periodicAngles(layer: AdapterLayer): boolean {
  const circuits = layer.circuits();
  if (circuits.length === 0) return false;
  return circuits.every(
    ({ circuit, periodic }) =>
      periodic === true ||
      circuit.gates.every((g) => !isRotation(g) || !isParamAngle(g.angle) || Number.isInteger(g.angle.scale)),
  );
}

/** The trainable tensors of a loaded adapter as named parameter vectors with their kinds, and the frozen ones. */
export function adapterTensors(peft: PeftModel): { params: ParamTensor[]; frozen: string[] } {
  const params: ParamTensor[] = [];
  const frozen: string[] = [];
  for (const [target, layer] of peft.adapterLayers()) {
    const keep = layer.frozenParameters();
    const angles = periodicAngles(layer);
    for (const [pname, v] of layer.namedParameters()) {
      const name = `${PREFIX}${target}.${pname}`;
      if (keep.has(pname)) {
        frozen.push(name);
        continue;
      }
      const kind = angles && /^theta(_|$)/.test(pname) ? 'angle' : 'real';
      params.push({
        name,
        kind,
        shape: [...v.shape],
        values: Float32Array.from(v.dataSync()),
        stream: pname,
      });
    }
  }
  return { params, frozen };
}

/**
 * Importance of every trainable value for ΔW: E‖∂ΔW/∂p‖²_F over all targets, estimated with `samples`
 * random probes R (E_R[(∂⟨R, ΔW⟩/∂p)²] = ‖∂ΔW/∂p‖²_F for R with standard normal entries). Null for a
 * method without ΔW.
 */
export function deltaSensitivities(
  peft: PeftModel,
  names: readonly string[],
  samples = 8,
  seed = 0,
): Map<string, Float64Array> | null {
  const layers = peft.adapterLayers();
  if (!layers.every(([, l]) => l.mergeable)) return null;
  const byName = new Map<string, tf.Variable>();
  for (const [target, layer] of layers)
    for (const [pname, v] of layer.namedParameters()) byName.set(`${PREFIX}${target}.${pname}`, v);
  const vars = names.map((n) => byName.get(n)!);
  const acc = vars.map((v) => new Float64Array(v.size));
  for (let s = 0; s < samples; s++) {
    const { value, grads } = tf.variableGrads(
      () =>
        tf.tidy(() =>
          tf.addN(
            layers.map(([, l], i) =>
              l
                .deltaWeight()
                .mul(tf.randomNormal([l.inFeatures, l.outFeatures], 0, 1, 'float32', seed + 7919 * s + i))
                .sum(),
            ),
          ),
        ) as tf.Scalar,
      vars,
    );
    vars.forEach((v, i) => {
      const g = grads[v.name];
      if (!g) return;
      const d = g.dataSync();
      for (let j = 0; j < d.length; j++) acc[i]![j]! += (d[j]! * d[j]!) / samples;
    });
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }
  return new Map(names.map((n, i) => [n, acc[i]!]));
}

/** ΔW of every target of the active adapter (float32, d_in × d_out), or null for a non-linear method. */
export function adapterDeltas(peft: PeftModel): Map<string, Float32Array> | null {
  const out = new Map<string, Float32Array>();
  for (const [target, layer] of peft.adapterLayers()) {
    if (!layer.mergeable) return null;
    const d = layer.deltaWeight();
    out.set(target, d.dataSync() as Float32Array);
    d.dispose();
  }
  return out;
}

/** √(Σ‖A−B‖²_F / Σ‖A‖²_F) over all targets (float64 sums); the absolute error when ΔW = 0. */
export function relativeFrobenius(ref: Map<string, Float32Array>, got: Map<string, Float32Array>): number {
  let num = 0;
  let den = 0;
  for (const [k, a] of ref) {
    const b = got.get(k)!;
    for (let i = 0; i < a.length; i++) {
      num += (a[i]! - b[i]!) ** 2;
      den += a[i]! ** 2;
    }
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

/** √(Σ(x − q)² / Σx²) over the parameter vectors (angles compared modulo 4π). */
function paramRelError(params: readonly ParamTensor[], decoded: Record<string, StTensor>): number {
  let num = 0;
  let den = 0;
  for (const p of params) {
    const q = decoded[p.name]!.data;
    for (let i = 0; i < p.values.length; i++) {
      let d = p.values[i]! - q[i]!;
      if (p.kind === 'angle') d -= 4 * Math.PI * Math.round(d / (4 * Math.PI));
      num += d * d;
      den += p.values[i]! ** 2;
    }
  }
  return den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
}

/** What quantizing an adapter produced. */
export interface QuantizeReport {
  readonly scheme: 'uniform' | 'adaptive';
  readonly bits: number;
  readonly account: BitAccount;
  /** `delta-w`: relative Frobenius error of ΔW over all targets; `params`: relative error of the parameters. */
  readonly metric: 'delta-w' | 'params';
  readonly error: number;
  /** The relative error of the parameter vector (angles modulo 4π), always measured. */
  readonly paramError: number;
  /** Bytes of the written weights file and of the float32 original. */
  readonly fileBytes: number;
  readonly float32Bytes: number;
  /** RY (and other) rotations dropped from the exported circuits as identities. */
  readonly droppedGates: number;
  readonly qasmFiles: readonly string[];
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * Quantize the adapter saved in `dir` and write the quantized adapter to `outDir` (weights, circuits, then
 * the config, all atomically; `null`: measure only). The source must be a float32 adapter written by
 * `saveAdapter`.
 */
export function quantizeAdapterDir(
  dir: string,
  outDir: string | null,
  options: QuantOptions & {
    /** Adaptive only: weight each value's squared error by its ΔW sensitivity (default `delta-w`) or not. */
    readonly weighting?: 'delta-w' | 'none';
  },
): QuantizeReport {
  const saved = readAdapterConfig(dir);
  const file = path.join(dir, WEIGHTS_FILE);
  const original = loadSafetensors(file);
  if (isQuantized(original.metadata))
    throw new AdapterError(`${file} is already quantized; quantize the float32 adapter it came from`);
  const model = skeletonModel(saved.targets);
  const peft = loadPeftModel(model, dir);
  try {
    const { params, frozen } = adapterTensors(peft);
    if (params.length === 0)
      throw new AdapterError(`the adapter in ${describe(dir)} has no trainable tensors`);
    const before = adapterDeltas(peft);
    const weights =
      options.adaptive && (options.weighting ?? 'delta-w') === 'delta-w'
        ? deltaSensitivities(
            peft,
            params.map((p) => p.name),
          )
        : null;
    const q = quantizeParams(
      weights ? params.map((p) => ({ ...p, weights: weights.get(p.name)! })) : params,
      options,
    );
    const enc = encodeQuantized(q);
    const tensors: Record<string, { shape: readonly number[]; data: StTensor['data'] }> = { ...enc.tensors };
    for (const name of frozen) {
      const t = original.tensors[name];
      if (!t) throw new AdapterError(`${file}: missing frozen tensor ${name}`);
      tensors[name] = { shape: t.shape, data: t.data };
    }
    const bytes = encodeSafetensors(tensors, { ...original.metadata, ...enc.metadata });
    // decode exactly as the loader will, and put the decoded values into the adapter
    const decoded = dequantizeWeights({
      tensors: Object.fromEntries(
        Object.entries(enc.tensors).map(([k, t]) => [
          k,
          { dtype: 'U8' as const, shape: t.shape, data: t.data },
        ]),
      ),
      metadata: enc.metadata,
    });
    const byName = new Map<string, tf.Variable>();
    for (const [target, layer] of peft.adapterLayers())
      for (const [pname, v] of layer.namedParameters()) byName.set(`${PREFIX}${target}.${pname}`, v);
    const paramError = paramRelError(params, decoded);
    for (const p of params) {
      const v = byName.get(p.name)!;
      tf.tidy(() => v.assign(tf.tensor(decoded[p.name]!.data as Float32Array, [...v.shape], 'float32')));
    }
    const after = before ? adapterDeltas(peft) : null;
    const qasmFiles: string[] = [];
    const texts: [string, string][] = [];
    let droppedGates = 0;
    const account = bitAccount(q);
    for (const [target, layer] of peft.adapterLayers()) {
      for (const c of layer.circuits()) {
        const { circuit, dropped } = pruneCircuit(c.circuit, c.theta);
        const text = exportQasm(circuit, {
          version: 3,
          comment: `quantized adapter (${q.scheme}, ${q.bits} bits, ${account.bitsPerParam.toFixed(4)} bits/param): ${dropped} identity rotation(s) dropped`,
        });
        droppedGates += dropped;
        const rel = `circuits/${fileSafe(target)}.${fileSafe(c.name)}.qasm`;
        texts.push([rel, text]);
        qasmFiles.push(rel);
      }
    }
    if (outDir !== null) {
      writeFileAtomic(path.join(outDir, WEIGHTS_FILE), bytes);
      for (const [rel, text] of texts) writeFileAtomic(path.join(outDir, rel), text);
      const config = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8')) as Record<string, unknown>;
      config.qasm_files = qasmFiles;
      config.quantization = {
        scheme: q.scheme,
        bits: q.bits,
        group_size: q.groupSize,
        bits_per_param: account.bitsPerParam,
        pruned_groups: account.prunedGroups,
        dropped_gates: droppedGates,
      };
      writeFileAtomic(path.join(outDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
    }
    const metric = before && after ? 'delta-w' : 'params';
    return {
      scheme: q.scheme,
      bits: q.bits,
      account,
      metric,
      error: before && after ? relativeFrobenius(before, after) : paramError,
      paramError,
      fileBytes: bytes.length,
      float32Bytes: readFileSync(file).length,
      droppedGates,
      qasmFiles,
    };
  } finally {
    peft.unload();
    model.dispose();
  }
}
