import type { Command } from '../command.ts';
import { circuitCommand } from './circuit.ts';
import { demoCommand } from './demo.ts';
import { experimentCommand, quickstartCommand } from './experiment.ts';
import { expressivityCommand } from './expressivity.ts';
import { finetuneCommand } from './finetune.ts';
import { hardwareCommand } from './hardware.ts';
import { paramsCommand } from './params.ts';
import { pretrainCommand } from './pretrain.ts';
import { qasmCommand } from './qasm.ts';
import { quantizeCommand } from './quantize.ts';
import { unitaryCommand } from './unitary.ts';

/** Every CLI command, in the order `qpeft --help` lists them. Add new commands here. */
export const COMMANDS: readonly Command[] = [
  demoCommand,
  circuitCommand,
  unitaryCommand,
  qasmCommand,
  hardwareCommand,
  expressivityCommand,
  paramsCommand,
  pretrainCommand,
  finetuneCommand,
  experimentCommand,
  quickstartCommand,
  quantizeCommand,
];
