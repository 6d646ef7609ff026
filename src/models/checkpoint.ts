/**
 * Saving and loading models: `config.json` (kind and config) beside `model.safetensors` (parameters by
 * dotted name), both written atomically. `loadModel` rebuilds the model from the config and loads the
 * weights strictly (every parameter present, exact shapes).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataError, describe, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readJsonBounded } from '../io/read.ts';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.ts';
import { TextTransformer, type TextTransformerConfig, textConfig } from './text.ts';
import { ViT, type ViTConfig, vitConfig } from './vit.ts';

/** A model this package can save and load. */
export type BaseModel = ViT | TextTransformer;
export type ModelKind = BaseModel['kind'];
export const MODEL_KINDS: readonly ModelKind[] = ['vit', 'text'];

/** What `config.json` holds. */
export interface ModelFile {
  format: 'qpeft-model';
  version: 1;
  kind: ModelKind;
  config: ViTConfig | TextTransformerConfig;
}

export const MODEL_CONFIG_FILE = 'config.json';
export const MODEL_WEIGHTS_FILE = 'model.safetensors';

/** Build a fresh model of `kind` from a (partial) config. */
export function createModel(
  kind: ModelKind,
  config: Partial<ViTConfig> | Partial<TextTransformerConfig> = {},
): BaseModel {
  if (kind === 'vit') return new ViT(config as Partial<ViTConfig>);
  if (kind === 'text') return new TextTransformer(config as Partial<TextTransformerConfig>);
  throw new InputError(`unknown model kind ${describe(kind)}; expected one of ${MODEL_KINDS.join(', ')}`);
}

/** The model's parameters as safetensors entries (float32). */
export function modelTensors(model: BaseModel): Record<string, { shape: number[]; data: Float32Array }> {
  return model.stateDict();
}

/** Write `config.json` and `model.safetensors` into `dir` (atomically; `metadata` goes into the safetensors header). */
export function saveModel(dir: string, model: BaseModel, metadata: Record<string, string> = {}): void {
  const file: ModelFile = { format: 'qpeft-model', version: 1, kind: model.kind, config: model.config };
  saveSafetensors(path.join(dir, MODEL_WEIGHTS_FILE), model.stateDict(), {
    format: 'qpeft-model',
    kind: model.kind,
    ...metadata,
  });
  writeFileAtomic(path.join(dir, MODEL_CONFIG_FILE), `${JSON.stringify(file, null, 2)}\n`);
}

/** Read and validate `config.json` of a model directory. */
export function readModelConfig(dir: string): ModelFile {
  const file = path.join(dir, MODEL_CONFIG_FILE);
  if (!existsSync(file))
    throw new InputError(`no model in ${describe(dir)}: ${MODEL_CONFIG_FILE} is missing`);
  const raw = readJsonBounded(file, 'model config');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new DataError(`${file}: expected a JSON object, got ${describe(raw)}`);
  const parsed = raw as Partial<ModelFile>;
  if (typeof parsed.config !== 'object' || parsed.config === null || Array.isArray(parsed.config))
    throw new DataError(`${file}: expected "config" (an object), got ${describe(parsed.config)}`);
  if (parsed.format !== 'qpeft-model' || parsed.version !== 1) {
    throw new InputError(
      `${file}: expected format "qpeft-model" version 1, got ${describe(parsed.format)} version ${describe(parsed.version)}`,
    );
  }
  if (parsed.kind === 'vit')
    return { ...parsed, config: vitConfig(parsed.config as Partial<ViTConfig>) } as ModelFile;
  if (parsed.kind === 'text')
    return { ...parsed, config: textConfig(parsed.config as Partial<TextTransformerConfig>) } as ModelFile;
  throw new InputError(
    `${file}: unknown model kind ${describe(parsed.kind)}; expected one of ${MODEL_KINDS.join(', ')}`,
  );
}

/**
 * A lower bound on a model's parameter count from its config: the blocks' attention (4·dim²) and MLP
 * (2·dim·mlpDim) weights, the embeddings and the head. Strict loading needs every parameter in the weights
 * file, so a config whose bound exceeds what the file can hold is refused before the model is built.
 */
export function minModelParams(kind: ModelKind, config: ViTConfig | TextTransformerConfig): number {
  const blocks = config.depth * (4 * config.dim * config.dim + 2 * config.dim * config.mlpDim);
  if (kind === 'vit') {
    const c = config as ViTConfig;
    return blocks + c.patchSize * c.patchSize * c.channels * c.dim + c.dim * c.numClasses;
  }
  const c = config as TextTransformerConfig;
  return blocks + 2 * c.vocabSize * c.dim + c.contextLength * c.dim;
}

/** Load a model saved by `saveModel` (config + weights, strict; sizes checked before anything is built). */
export function loadModel(dir: string): BaseModel {
  const { kind, config } = readModelConfig(dir);
  const weights = path.join(dir, MODEL_WEIGHTS_FILE);
  let bytes = 0;
  try {
    bytes = statSync(weights).size;
  } catch {
    // missing: loadSafetensors below says so
  }
  const need = minModelParams(kind, config);
  // F16 is the smallest dtype the reader accepts: 2 bytes per value
  if (bytes > 0 && !(need * 2 <= bytes))
    throw new DataError(
      `${path.join(dir, MODEL_CONFIG_FILE)} declares a ${kind} model of at least ${need} parameters; ${weights} (${bytes} bytes) cannot hold them`,
    );
  const model = createModel(kind, config);
  try {
    model.loadStateDict(loadSafetensors(path.join(dir, MODEL_WEIGHTS_FILE)).tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
