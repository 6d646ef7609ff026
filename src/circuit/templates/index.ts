import { describe, InputError } from '../../errors.ts';
import { alternatingRyCzTemplate } from './alternating-ry-cz.ts';
import { simplifiedTwoDesignTemplate } from './simplified-two-design.ts';
import type { TemplateDef, TemplateName } from './types.ts';

export { alternatingRyCz, alternatingRyCzTemplate } from './alternating-ry-cz.ts';
export {
  grayCode,
  MAX_WIDTH,
  type MixedRadixShape,
  mixedRadixCircuit,
  mixedRadixParamCount,
  mixedRadixRowBasis,
  mixedRadixShape,
  quditRotations,
  quditTwoDesign,
} from './mixed-radix.ts';
export { simplifiedTwoDesign, simplifiedTwoDesignTemplate } from './simplified-two-design.ts';
export type { ParamBlock, TemplateDef, TemplateName } from './types.ts';

/** Every built-in template, by name. */
export const TEMPLATES: Readonly<Record<TemplateName, TemplateDef>> = Object.freeze({
  'simplified-two-design': simplifiedTwoDesignTemplate,
  'alternating-ry-cz': alternatingRyCzTemplate,
});

/** Look a template up by name; a clear error lists the known names. */
export function getTemplate(name: string): TemplateDef {
  if (!Object.hasOwn(TEMPLATES, name)) {
    throw new InputError(
      `unknown template ${describe(name)}; expected one of ${Object.keys(TEMPLATES).join(', ')}`,
    );
  }
  return TEMPLATES[name as TemplateName];
}
