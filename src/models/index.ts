export { formatDuration, ProgressBar, type ProgressSink } from '../util/progress.ts';
export {
  type BaseModel,
  createModel,
  loadModel,
  MODEL_CONFIG_FILE,
  MODEL_KINDS,
  MODEL_WEIGHTS_FILE,
  type ModelFile,
  type ModelKind,
  readModelConfig,
  saveModel,
} from './checkpoint.ts';
export {
  causalMask,
  Embedding,
  gelu,
  LayerNorm,
  Mlp,
  MultiHeadSelfAttention,
  patchify,
  seedStream,
  TransformerBlock,
} from './layers.ts';
export { correctCount, crossEntropy } from './losses.ts';
export { AdamW, type AdamWOptions, warmupCosine } from './optim.ts';
export { TEXT_DEFAULTS, TextTransformer, type TextTransformerConfig, textConfig } from './text.ts';
export { VIT_DEFAULTS, ViT, type ViTConfig, vitConfig } from './vit.ts';
