/** The built-in adapter methods, registered on import. */
import { registerMethod } from '../registry.ts';
import { adaloraMethod } from './adalora.ts';
import { bitfitMethod } from './bitfit.ts';
import { houlsbyMethod, pfeifferMethod } from './bottleneck.ts';
import { doraMethod } from './dora.ts';
import { fullMethod } from './full.ts';
import { loraMethod } from './lora.ts';
import { quantumPeftMethod } from './quantum-peft.ts';
import { quantumPeftLieMethod } from './quantum-peft-lie.ts';
import { veraMethod } from './vera.ts';

for (const def of [
  quantumPeftMethod,
  quantumPeftLieMethod,
  loraMethod,
  adaloraMethod,
  bitfitMethod,
  houlsbyMethod,
  pfeifferMethod,
  fullMethod,
  veraMethod,
  doraMethod,
]) {
  registerMethod(def as never);
}

export { AdaLoraAllocator, type AdaLoraConfig, AdaLoraLayer, adaloraBudget } from './adalora.ts';
export { type BitFitConfig, BitFitLayer } from './bitfit.ts';
export { type BottleneckActivation, type BottleneckConfig, BottleneckLayer } from './bottleneck.ts';
export { type DoraConfig, DoraLayer } from './dora.ts';
export { type FullConfig, FullLayer } from './full.ts';
export { type LoraConfig, LoraLayer } from './lora.ts';
export { type CircuitPair, type QuantumPeftConfig, QuantumPeftLayer } from './quantum-peft.ts';
export { type QuantumPeftLieConfig, QuantumPeftLieLayer } from './quantum-peft-lie.ts';
export { type VeraConfig, VeraLayer } from './vera.ts';
