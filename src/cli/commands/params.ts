import { InputError } from '../../errors.ts';
import { MODEL_IDS, paramTable, paramTableMarkdown, paramTableText } from '../../peft/param-table.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft params --model ${MODEL_IDS.join('|')} [--rank K] [--layers L] [--markdown | --json]

Trainable parameters per adapted matrix and for the whole model: Quantum-PEFT with two-design factors in the
mixed-radix and the direct-sum form (L = 1, 2, 4, or --layers L), the Lie variant and LoRA r = 1, 8, next to
the counts the Quantum-PEFT paper reports for that model. --rank sets K (λ and the Lie variant; default 1).`;

export const paramsCommand: Command = {
  name: 'params',
  summary: 'trainable-parameter table for a published model (Quantum-PEFT forms, Lie, LoRA, the paper)',
  help,
  run(argv, io) {
    const { values } = parseFlags('params', argv, {
      model: { type: 'string' },
      rank: { type: 'string' },
      layers: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    if (values.model === undefined)
      throw new InputError(`missing required flag --model (${MODEL_IDS.join(', ')})`);
    if (values.markdown && values.json) throw new InputError('give --markdown or --json, not both');
    const rank = intFlag('rank', values.rank, 1, 1);
    const layers =
      values.layers === undefined ? undefined : [intFlag('layers', values.layers, undefined, 0, 10_000)];
    const table = paramTable(values.model, { rank, ...(layers ? { layers } : {}) });
    if (values.json) io.out(JSON.stringify(table));
    else io.out(values.markdown ? paramTableMarkdown(table) : paramTableText(table));
    return 0;
  },
};
