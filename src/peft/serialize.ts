/**
 * Saving, loading and exporting adapters in Hugging Face PEFT's directory layout:
 *
 *     <dir>/adapter_config.json        the method's config plus the resolved targets and their shapes
 *     <dir>/adapter_model.safetensors  `base_model.model.<target>.<variable>` float32 tensors
 *     <dir>/circuits/<target>.<P|Q…>.qasm   the adapter circuits with trained angles bound (quantum methods)
 *
 * Every file is written atomically and the config last, so a directory with a config is complete. Loading
 * checks the config against the model (method, targets, shapes) and the tensors against the adapter
 * (names, shapes, dtype, finite values); any mismatch is an `AdapterError` that says what differs.
 *
 * `exportLora` writes a plain LoRA adapter (`lora_A.weight` r×d_in, `lora_B.weight` d_out×r, `r`,
 * `lora_alpha`) that PEFT / PyTorch tools load, for every method whose ΔW is a rank-r product.
 *
 * LoRA adapters are saved in PEFT's own schema and tensor layout (the same files as `exportLora`: snake_case
 * `adapter_config.json` with `peft_type: "LORA"`, keys `base_model.model.<target>.lora_A.weight` /
 * `lora_B.weight` in torch orientation), so one folder serves qpeft, PEFT and python/qpeft_torch.py; qpeft
 * loads such folders from anywhere, and still loads its older native LoRA folders. Native folders of the
 * other methods keep qpeft's schema; those whose method shares a name with a PEFT tuner of another schema
 * (AdaLoRA, VeRA, and LoRA when it carries modulesToSave copies, which PEFT's LoRA schema has no slot for)
 * carry their own `peft_type` (`QPEFT_ADALORA`, `QPEFT_VERA`, `QPEFT_LORA`) so that PEFT refuses them
 * instead of reading them with a default config.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AdapterError, DataError, describe, FileError, UnsafePathError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { dequantizeWeights } from '../io/quant/format.ts';
import { READ_LIMITS, readJsonBounded, readTextBounded, resolveInside } from '../io/read.ts';
import { encodeSafetensors, loadSafetensors, SafetensorsError, type StTensor } from '../io/safetensors.ts';
import type { Linear } from '../nn/linear.ts';
import type { Module } from '../nn/module.ts';
import { tf } from '../tf/backend.ts';
import { transposeData } from '../util/matrix.ts';
import type { LayersModule } from './layers-model.ts';
import { getPeftModel, matchTargets, type PeftModel } from './model.ts';
import { exportAdapterQasm } from './qasm-link.ts';
import { type BaseAdapterConfig, getMethod, type MethodDef } from './registry.ts';

/** The config file of an adapter directory (PEFT's name). */
export const CONFIG_FILE = 'adapter_config.json';
/** The tensors of an adapter directory (PEFT's name). */
export const WEIGHTS_FILE = 'adapter_model.safetensors';
const FORMAT = 'qpeft-adapter';
const FORMAT_VERSION = 1;

interface SavedTarget {
  name: string;
  in_features: number;
  out_features: number;
}

interface SavedConfig {
  format: string;
  format_version: number;
  peft_type: string;
  method: string;
  config: Record<string, unknown>;
  targets: SavedTarget[];
  /** Layers trained in full with the adapter (`modulesToSave`); absent in older directories. */
  modules_to_save?: SavedTarget[];
  qasm_files: string[];
}

const PREFIX = 'base_model.model.';
/** The key segment of a `modulesToSave` copy's tensors: `<PREFIX><layer>.modules_to_save.<weight|bias>`. */
const SAVED_MODULE = 'modules_to_save';

/** Every tensor of an adapter (method layers and saved module copies) by its key in the file. */
function adapterVariables(peft: PeftModel, name: string): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [target, layer] of peft.adapterLayers(name)) {
    for (const [pname, v] of layer.namedParameters()) out.set(`${PREFIX}${target}.${pname}`, v);
  }
  for (const [module, layer] of peft.savedModules(name)) {
    for (const [pname, v] of layer.namedParameters())
      out.set(`${PREFIX}${module}.${SAVED_MODULE}.${pname}`, v);
  }
  return out;
}

/**
 * `peft_type` of native folders whose method name is also a PEFT tuner with another schema (LoRA is native
 * only when it carries modulesToSave copies; otherwise it is written in PEFT's schema).
 */
const OWN_PEFT_TYPE: Readonly<Record<string, string>> = {
  adalora: 'QPEFT_ADALORA',
  vera: 'QPEFT_VERA',
  lora: 'QPEFT_LORA',
};

/**
 * Marks a SavedConfig converted in memory from a PEFT-schema LoRA folder (tensors need `loraToNative`) and
 * holds the weights file as read for the config (its targets come from the tensors), so the loader does not
 * read the file a second time.
 */
const PEFT_LORA = Symbol('peft-lora');
type LoadedWeights = ReturnType<typeof loadSafetensors>;
type ReadConfig = SavedConfig & { [PEFT_LORA]?: LoadedWeights };

/**
 * The largest magnitude a saved adapter parameter may have. Trained adapters hold values of order 1 (angles
 * wrap at 4π, λ and LoRA factors are small); 1e6 leaves a wide margin while refusing values such as λ = 3e38
 * that would turn every output of the layer into ±Inf.
 */
export const MAX_PARAM_ABS = 1e6;

/** The config as JSON: a RegExp target becomes its source string (a regex, as PEFT reads a string). */
function configToJson(c: BaseAdapterConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  if (c.targetModules instanceof RegExp) out.targetModules = c.targetModules.source;
  return out;
}

function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/** Save one adapter (default: the active one) to `dir`. */
export function saveAdapter(peft: PeftModel, dir: string, options: { adapter?: string } = {}): void {
  const name = options.adapter ?? peft.activeAdapter;
  const config = peft.config(name);
  if (config.method === 'lora' && peft.savedModules(name).length === 0) {
    // PEFT's own schema and layout (see the file comment); seed and init are not needed to load. With
    // modulesToSave copies the folder stays in qpeft's format, which carries them.
    exportLora(peft, dir, { adapter: name });
    return;
  }
  const layers = peft.adapterLayers(name);
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const targets: SavedTarget[] = [];
  const qasmFiles: string[] = [];
  for (const [target, layer] of layers)
    targets.push({ name: target, in_features: layer.inFeatures, out_features: layer.outFeatures });
  const modules = peft
    .savedModules(name)
    .map(([m, l]) => ({ name: m, in_features: l.inFeatures, out_features: l.outFeatures }));
  for (const [key, v] of adapterVariables(peft, name))
    tensors[key] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) };
  writeFileAtomic(
    path.join(dir, WEIGHTS_FILE),
    encodeSafetensors(tensors, { format: 'pt', qpeft_method: config.method }),
  );
  for (const [target, layer] of layers) {
    for (const c of layer.circuits()) {
      const text = exportAdapterQasm(c.circuit, c.theta);
      if (text === null) continue;
      const rel = `circuits/${fileSafe(target)}.${fileSafe(c.name)}.qasm`;
      writeFileAtomic(path.join(dir, rel), text);
      qasmFiles.push(rel);
    }
  }
  const saved: SavedConfig = {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    peft_type: OWN_PEFT_TYPE[config.method] ?? config.method.toUpperCase().replace(/-/g, '_'),
    method: config.method,
    config: configToJson(config),
    targets,
    ...(modules.length ? { modules_to_save: modules } : {}),
    qasm_files: qasmFiles,
  };
  writeFileAtomic(path.join(dir, CONFIG_FILE), `${JSON.stringify(saved, null, 2)}\n`);
}

/**
 * A PEFT-schema LoRA config (`peft_type: "LORA"`, snake_case) as qpeft's: method `lora` with `r`,
 * `lora_alpha`, `use_rslora`; the targets and their shapes come from the tensors. Settings qpeft's LoRA
 * cannot reproduce exactly (per-module ranks, DoRA, trained biases, fan_in_fan_out) are refused.
 */
function peftLoraConfig(raw: Record<string, unknown>, dir: string): ReadConfig {
  const file = path.join(dir, CONFIG_FILE);
  const refuse = (what: string) =>
    new AdapterError(`${file}: a PEFT LoRA adapter with ${what} cannot be loaded into qpeft's LoRA`);
  if (raw.use_dora === true) throw refuse('use_dora: true (DoRA)');
  if (raw.bias !== undefined && raw.bias !== 'none') throw refuse(`bias ${describe(raw.bias)}`);
  if (raw.fan_in_fan_out === true) throw refuse('fan_in_fan_out: true');
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = raw[k];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v).length > 0))
      throw refuse(`a non-empty ${k}`);
  }
  const r = raw.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1)
    throw new AdapterError(`${file}: expected r (a positive integer), got ${describe(r)}`);
  const alpha = raw.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha))
    throw new AdapterError(`${file}: expected lora_alpha (a number), got ${describe(alpha)}`);
  let loaded: LoadedWeights;
  try {
    loaded = loadSafetensors(path.join(dir, WEIGHTS_FILE));
  } catch (e) {
    if (e instanceof SafetensorsError) throw new AdapterError(`${WEIGHTS_FILE}: ${e.message}`);
    throw e;
  }
  const weights = loaded.tensors;
  const targets: SavedTarget[] = [];
  for (const key of Object.keys(weights).sort()) {
    const m = /^base_model\.model\.(.+)\.lora_A\.weight$/.exec(key);
    if (!m) continue;
    const b = weights[`${PREFIX}${m[1]}.lora_B.weight`];
    const a = weights[key]!;
    if (!b || a.shape.length !== 2 || b.shape.length !== 2)
      throw new AdapterError(`${WEIGHTS_FILE}: ${m[1]} needs 2-D lora_A.weight and lora_B.weight`);
    targets.push({ name: m[1]!, in_features: a.shape[1]!, out_features: b.shape[0]! });
  }
  if (!targets.length)
    throw new AdapterError(
      `${path.join(dir, WEIGHTS_FILE)}: no base_model.model.<module>.lora_A.weight tensors`,
    );
  return {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    peft_type: 'LORA',
    method: 'lora',
    config: {
      method: 'lora',
      r,
      loraAlpha: alpha,
      useRslora: raw.use_rslora === true,
      // the tensors name the adapted modules exactly (PEFT's target_modules may be suffixes or a regex)
      targetModules: targets.map((t) => t.name),
    },
    targets,
    qasm_files: [],
    [PEFT_LORA]: loaded,
  };
}

/** PEFT-layout LoRA tensors → qpeft's variables: lora_down = lora_Aᵀ (d_in × r), lora_up = lora_Bᵀ (r × d_out). */
function loraToNative(weights: Record<string, StTensor>, saved: ReadConfig): Record<string, StTensor> {
  if (!saved[PEFT_LORA]) return weights;
  const out: Record<string, StTensor> = {};
  const transpose = (t: StTensor): StTensor => {
    const [rows, cols] = t.shape as [number, number];
    return { ...t, shape: [cols, rows], data: transposeData(t.data as Float32Array, rows, cols) };
  };
  for (const [key, t] of Object.entries(weights)) {
    const m = /^(base_model\.model\..+)\.lora_(A|B)\.weight$/.exec(key);
    if (!m) {
      out[key] = t;
      continue;
    }
    if (t.dtype !== 'F32') throw new AdapterError(`${key}: expected dtype F32, got ${t.dtype}`);
    out[`${m[1]}.${m[2] === 'A' ? 'lora_down' : 'lora_up'}`] = transpose(t);
  }
  return out;
}

/** Read and check `adapter_config.json` (a bounded read; every field the loader uses is type-checked). */
export function readAdapterConfig(dir: string): SavedConfig {
  const file = path.join(dir, CONFIG_FILE);
  if (!existsSync(file))
    throw new AdapterError(
      `no ${CONFIG_FILE} in ${describe(dir)} (expected a directory written by saveAdapter)`,
    );
  let raw: unknown;
  try {
    raw = readJsonBounded(file, 'adapter config');
  } catch (e) {
    if (e instanceof FileError && !(e instanceof UnsafePathError)) throw new AdapterError(e.message);
    throw e;
  }
  const c = raw as Partial<SavedConfig>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AdapterError(`${file}: expected a JSON object, got ${describe(raw)}`);
  if (c?.format === undefined && (raw as { peft_type?: unknown })?.peft_type === 'LORA') {
    return peftLoraConfig(raw as Record<string, unknown>, dir);
  }
  if (c?.format !== FORMAT) {
    throw new AdapterError(
      `${file}: expected format ${describe(FORMAT)}, got ${describe(c?.format)}${(raw as { peft_type?: unknown })?.peft_type === 'LORA' ? ' (a plain LoRA export: load it with PEFT, or wrap with method lora)' : ''}`,
    );
  }
  if (c.format_version !== FORMAT_VERSION)
    throw new AdapterError(
      `${file}: format_version ${describe(c.format_version)} is not supported (expected ${FORMAT_VERSION})`,
    );
  if (
    typeof c.config !== 'object' ||
    c.config === null ||
    Array.isArray(c.config) ||
    !Array.isArray(c.targets)
  ) {
    throw new AdapterError(`${file}: expected "config" (an object) and "targets" (a list)`);
  }
  if (typeof c.method !== 'string')
    throw new AdapterError(`${file}: expected "method" (a string), got ${describe(c.method)}`);
  const seen = new Set<string>();
  for (const t of c.targets as unknown[]) {
    const o = t as Partial<SavedTarget> | null;
    const dim = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
    if (
      typeof o !== 'object' ||
      o === null ||
      typeof o.name !== 'string' ||
      o.name === '' ||
      !dim(o.in_features) ||
      !dim(o.out_features)
    )
      throw new AdapterError(
        `${file}: every target must be {name, in_features, out_features} (a name and positive integers), got ${JSON.stringify(t)?.slice(0, 80)}`,
      );
    if (seen.has(o.name)) throw new AdapterError(`${file}: target ${describe(o.name)} is listed twice`);
    seen.add(o.name);
  }
  return c as SavedConfig;
}

/**
 * Config fields that name a file, and the field that holds the file's text. In a folder those paths are
 * untrusted: they must resolve inside the folder (no absolute path, no `..` out, no symbolic link out) and
 * are read with a size bound; the text then replaces the path, so the method never opens a file itself.
 */
const FILE_FIELDS: Record<string, string> = { qasmFile: 'qasm' };

/** The saved config with its file fields resolved inside `dir` and read (see `FILE_FIELDS`). */
function configFromFolder(saved: SavedConfig, dir: string): Record<string, unknown> {
  const c: Record<string, unknown> = { ...saved.config };
  const file = path.join(dir, CONFIG_FILE);
  for (const [field, inline] of Object.entries(FILE_FIELDS)) {
    const v = c[field];
    if (v === undefined || c[inline] !== undefined) continue; // both given: the method refuses the pair
    const read = (rel: unknown) =>
      readTextBounded(resolveInside(dir, rel, `${file}: config.${field}`), READ_LIMITS.qasm, 'OpenQASM file');
    if (typeof v === 'string') c[inline] = read(v);
    else if (typeof v === 'object' && v !== null && !Array.isArray(v))
      c[inline] = { p: read((v as { p?: unknown }).p), q: read((v as { q?: unknown }).q) };
    else
      throw new AdapterError(
        `${file}: config.${field} must be a path relative to the folder or {p, q} paths, got ${describe(v)}`,
      );
    delete c[field];
  }
  return c;
}

/** The config to normalise: files inlined from the folder, then the method's own upgrade of old layouts. */
function savedConfig(def: MethodDef, saved: SavedConfig, dir: string): Record<string, unknown> {
  const c = configFromFolder(saved, dir);
  return def.fromSaved ? def.fromSaved(c) : c;
}

/**
 * A saved adapter's config exactly as `loadPeftModel` reads it: file fields resolved inside `dir` and read,
 * the method's upgrade of old layouts applied (`fromSaved`), then normalised. Tools that rebuild an adapter's
 * circuits without a model (the hardware planner) use it so that they see the same factors as the loader.
 */
export function normalizedAdapterConfig(saved: SavedConfig, dir: string): BaseAdapterConfig {
  const def = getMethod(saved.method);
  return def.normalize(savedConfig(def, saved, dir));
}

/** Every variable's trainable flag, to put back when a load fails half way. */
function trainableFlags(model: Module): [tf.Variable, boolean][] {
  return model.namedParameters().map(([, v]) => [v, v.trainable]);
}

/** The shapes the adapter's tensors must have, by file key. */
function expectedShapes(peft: PeftModel, name: string): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const [target, layer] of peft.adapterLayers(name))
    for (const [pname, v] of layer.namedParameters()) out.set(`${PREFIX}${target}.${pname}`, v.shape);
  return out;
}

/** Read the weights file: structural problems, quantized sizes that do not fit the adapter → `AdapterError`. */
function readWeights(
  dir: string,
  expected: Map<string, readonly number[]>,
  saved: ReadConfig,
): Record<string, StTensor> {
  const file = path.join(dir, WEIGHTS_FILE);
  try {
    // a PEFT-schema folder's file was already read by readAdapterConfig
    return loraToNative(dequantizeWeights(saved[PEFT_LORA] ?? loadSafetensors(file), expected), saved);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new AdapterError(`${WEIGHTS_FILE}: ${e.message}`);
    if (e instanceof DataError) throw new DataError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * Load a saved adapter into `peft` under `adapterName` (default: the saved name's usual `default`). On any
 * failure `peft` is left as it was: the half-added adapter is deleted and the base's flags are restored.
 */
export function loadAdapter(peft: PeftModel, dir: string, adapterName = 'default'): void {
  const saved = readAdapterConfig(dir);
  const config = normalizedAdapterConfig(saved, dir);
  checkTargets(peft.model, config, saved, dir);
  const flags = trainableFlags(peft.model);
  peft.addAdapter(adapterName, config);
  try {
    assignWeights(peft, adapterName, readWeights(dir, expectedShapes(peft, adapterName), saved), dir);
  } catch (e) {
    peft.deleteAdapter(adapterName);
    for (const [v, t] of flags) v.trainable = t;
    throw e;
  }
}

/**
 * Wrap `model` with an adapter loaded from `dir` (PEFT's `PeftModel.from_pretrained`); a `tf.LayersModel`
 * is wrapped in place as by `getPeftModel`, and the adapter's `modulesToSave` copies (its head) reload too.
 * The folder is untrusted data: its config and tensors are checked against the model before anything is
 * allocated, and a failed load leaves `model` as it was (no adapter layers, every trainable flag as before).
 */
export function loadPeftModel(
  model: tf.LayersModel,
  dir: string,
  adapterName?: string,
): PeftModel<LayersModule>;
export function loadPeftModel<M extends Module>(model: M, dir: string, adapterName?: string): PeftModel<M>;
export function loadPeftModel(
  model: Module | tf.LayersModel,
  dir: string,
  adapterName = 'default',
): PeftModel<Module> {
  const saved = readAdapterConfig(dir);
  const config = normalizedAdapterConfig(saved, dir);
  // a Module is checked before any adapter is built; a tf.LayersModel once getPeftModel has wrapped it
  const base = model instanceof tf.LayersModel ? null : model;
  if (base) checkTargets(base, config, saved, dir);
  const flags = base ? trainableFlags(base) : [];
  let peft: PeftModel<Module> | null = null;
  try {
    peft = getPeftModel(model as Module, config, adapterName);
    if (!base) checkTargets(peft.model, config, saved, dir);
    assignWeights(peft, adapterName, readWeights(dir, expectedShapes(peft, adapterName), saved), dir);
    return peft;
  } catch (e) {
    peft?.unload();
    for (const [v, t] of flags) v.trainable = t;
    throw e;
  }
}

function checkTargets(model: Module, config: BaseAdapterConfig, saved: SavedConfig, dir: string): void {
  const found = matchTargets(model, config.targetModules);
  const want = saved.targets.map((t) => t.name);
  const missing = want.filter((t) => !found.includes(t));
  const extra = found.filter((t) => !want.includes(t));
  if (missing.length || extra.length) {
    throw new AdapterError(
      `the adapter in ${describe(dir)} does not fit this model: ${missing.length ? `saved targets missing here: ${missing.join(', ')}` : ''}${missing.length && extra.length ? '; ' : ''}${extra.length ? `targets here the adapter lacks: ${extra.join(', ')}` : ''}`,
    );
  }
  const modules = config.modulesToSave?.length
    ? matchTargets(model, config.modulesToSave, 'modulesToSave')
    : [];
  const savedModules = saved.modules_to_save ?? [];
  const wantModules = savedModules.map((t) => t.name);
  if (modules.length !== wantModules.length || modules.some((m) => !wantModules.includes(m))) {
    throw new AdapterError(
      `the adapter in ${describe(dir)} saved copies of ${wantModules.join(', ') || '(no layers)'}, but its modulesToSave select ${modules.join(', ') || '(no layers)'} in this model`,
    );
  }
  for (const t of [...saved.targets, ...savedModules]) {
    const l = model.getModule(t.name) as Linear;
    if (l.inFeatures !== t.in_features || l.outFeatures !== t.out_features) {
      throw new AdapterError(
        `${t.name}: the adapter was saved for a ${t.in_features}→${t.out_features} layer, this model's is ${l.inFeatures}→${l.outFeatures}`,
      );
    }
  }
}

function assignWeights(peft: PeftModel, name: string, weights: Record<string, StTensor>, dir: string): void {
  const expected = adapterVariables(peft, name);
  const missing = [...expected.keys()].filter((k) => !(k in weights));
  const unexpected = Object.keys(weights).filter((k) => !expected.has(k));
  if (missing.length || unexpected.length) {
    throw new AdapterError(
      `${path.join(dir, WEIGHTS_FILE)} does not match the config: ${missing.length ? `missing ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}` : ''}${missing.length && unexpected.length ? '; ' : ''}${unexpected.length ? `unexpected ${unexpected.slice(0, 4).join(', ')}${unexpected.length > 4 ? ', …' : ''}` : ''}`,
    );
  }
  for (const [key, v] of expected) {
    const t = weights[key]!;
    if (t.dtype !== 'F32') throw new AdapterError(`${key}: expected dtype F32, got ${t.dtype}`);
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
      throw new AdapterError(`${key}: expected shape [${v.shape.join(', ')}], got [${t.shape.join(', ')}]`);
    }
    const bad = (t.data as Float32Array).findIndex((x) => !(Math.abs(x) <= MAX_PARAM_ABS));
    if (bad >= 0)
      throw new AdapterError(
        `${path.join(dir, WEIGHTS_FILE)}: ${key} value ${bad} is ${t.data[bad]} (expected finite numbers within ±${MAX_PARAM_ABS}; a larger one overflows ΔW in float32: the file is corrupt)`,
      );
  }
  for (const [key, v] of expected) {
    const t = weights[key]!;
    tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, [...v.shape], 'float32')));
  }
}

/**
 * Export an adapter as a plain Hugging Face LoRA adapter: for each target
 * `base_model.model.<target>.lora_A.weight` (r × d_in) and `…lora_B.weight` (d_out × r) with
 * ΔW_torch = (lora_alpha / r)·B·A = ΔWᵀ, and an `adapter_config.json` with `r`, `lora_alpha`,
 * `target_modules` (per-target differences go to `rank_pattern` / `alpha_pattern`).
 */
export function exportLora(
  peft: PeftModel,
  dir: string,
  options: { adapter?: string; baseModelName?: string } = {},
): void {
  const name = options.adapter ?? peft.activeAdapter;
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const ranks: Record<string, number> = {};
  const alphas: Record<string, number> = {};
  const layers = peft.adapterLayers(name);
  for (const [target, layer] of layers) {
    const f = layer.loraFactors();
    tensors[`${PREFIX}${target}.lora_A.weight`] = { shape: [f.r, layer.inFeatures], data: f.a };
    tensors[`${PREFIX}${target}.lora_B.weight`] = { shape: [layer.outFeatures, f.r], data: f.b };
    ranks[target] = f.r;
    alphas[target] = f.loraAlpha;
  }
  const first = layers[0]![0];
  const r = ranks[first]!;
  const alpha = alphas[first]!;
  const rankPattern = Object.fromEntries(Object.entries(ranks).filter(([, v]) => v !== r));
  const alphaPattern = Object.fromEntries(Object.entries(alphas).filter(([, v]) => v !== alpha));
  writeFileAtomic(path.join(dir, WEIGHTS_FILE), encodeSafetensors(tensors, { format: 'pt' }));
  const config = {
    peft_type: 'LORA',
    task_type: null,
    base_model_name_or_path: options.baseModelName ?? null,
    r,
    lora_alpha: alpha,
    lora_dropout: 0,
    target_modules: layers.map(([t]) => t),
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
    modules_to_save: null,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    revision: null,
  };
  writeFileAtomic(path.join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}
