/**
 * Saving and loading models: `config.json` (kind and config) beside `model.safetensors` (parameters by
 * dotted name), both written atomically. `loadModel` rebuilds the model from the config and loads the
 * weights strictly (every parameter present, exact shapes).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
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
  let parsed: Partial<ModelFile>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON (${(e as Error).message})`);
  }
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

/** Load a model saved by `saveModel` (config + weights, strict). */
export function loadModel(dir: string): BaseModel {
  const { kind, config } = readModelConfig(dir);
  const model = createModel(kind, config);
  try {
    model.loadStateDict(loadSafetensors(path.join(dir, MODEL_WEIGHTS_FILE)).tensors);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
