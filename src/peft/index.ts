/**
 * Adapters on TensorFlow.js: methods (one registry), the PEFT model API, save / load / LoRA export.
 *
 * ```ts
 * await initBackend();                                   // tensorflow > wasm > cpu
 * const peft = getPeftModel(model, { method: 'quantum-peft', rank: 8, layers: 2, targetModules: ['query', 'value'] });
 * peft.printTrainableParameters();                       // trainable params: … || all params: … || trainable%: …
 * const opt = tf.train.adam(1e-2);
 * opt.minimize(() => loss(model.forward(x), y), false, peft.trainableVariables());
 * saveAdapter(peft, 'out/adapter');                      // adapter_config.json + adapter_model.safetensors + circuits/*.qasm
 * exportLora(peft, 'out/lora');                          // plain PEFT LoRA (lora_A / lora_B, r, lora_alpha)
 * const plain = peft.mergeAndUnload();                   // W += ΔW, adapters removed
 * ```
 */

export { applyCircuit, circuitColumns, circuitSubspaceColumns } from '../sim/tf/bridge.ts';
export { type AdapterCircuit, AdapterLayer, type LoraFactors } from './adapter.ts';
export { expm, taylorApply } from './expm.ts';
export {
  type CircuitSource,
  type ColumnsPath,
  FACTOR_FORMS,
  type FactorForm,
  type FactorPlan,
  factorCircuit,
  factorColumns,
  factorMatrix,
  factorParamCount,
  factorQubits,
  factorRowBasis,
  planFactor,
  resolveFactorForm,
} from './factor.ts';
export { LayerLinear, LayerParams, LayersModule } from './layers-model.ts';
export * from './methods/index.ts';
export { getPeftModel, matchTargets, maxAdapterParams, PeftModel } from './model.ts';
export { MODEL_SHAPES, type ModelShape, type TargetShape } from './model-shapes.ts';
export { SavedModuleLayer, savedModuleParamCount } from './modules-to-save.ts';
export * from './param-counts.ts';
export {
  getModelShape,
  MODEL_IDS,
  type ParamColumn,
  type ParamRow,
  type ParamTable,
  paramColumns,
  paramTable,
  paramTableMarkdown,
  paramTableText,
} from './param-table.ts';
export {
  type BaseAdapterConfig,
  getMethod,
  type LayerContext,
  listMethods,
  type MethodDef,
  registerMethod,
  type TargetModules,
} from './registry.ts';
export {
  CONFIG_FILE,
  exportLora,
  loadAdapter,
  loadPeftModel,
  MAX_PARAM_ABS,
  readAdapterConfig,
  saveAdapter,
  WEIGHTS_FILE,
} from './serialize.ts';
export { compileTargetPattern, MAX_PATTERN_STATES, type TargetPattern } from './target-pattern.ts';
export {
  type WidthFactor,
  type WidthFactorReport,
  widthFactor,
  widthFactorComment,
  widthFactorReport,
  widthFactorText,
  widthSweepTask,
} from './width-factor.ts';

import type { AdaLoraConfig } from './methods/adalora.ts';
import type { BitFitConfig } from './methods/bitfit.ts';
import type { BottleneckConfig } from './methods/bottleneck.ts';
import type { DoraConfig } from './methods/dora.ts';
import type { FullConfig } from './methods/full.ts';
import type { LoraConfig } from './methods/lora.ts';
import type { QuantumPeftConfig } from './methods/quantum-peft.ts';
import type { QuantumPeftLieConfig } from './methods/quantum-peft-lie.ts';
import type { VeraConfig } from './methods/vera.ts';

/** A config of any built-in method, discriminated by `method`. */
export type AdapterConfig =
  | QuantumPeftConfig
  | QuantumPeftLieConfig
  | LoraConfig
  | AdaLoraConfig
  | BitFitConfig
  | BottleneckConfig
  | FullConfig
  | VeraConfig
  | DoraConfig;
