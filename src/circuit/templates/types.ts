import type { GateName } from '../gates.ts';
import type { Circuit } from '../ir.ts';

/** A named parameter tensor of a template, in the order the flat θ vector concatenates them (row-major). */
export interface ParamBlock {
  readonly name: string;
  readonly shape: readonly number[];
}

/** A circuit template: a family of circuits indexed by (qubits, layers) that declares its own sizes. */
export interface TemplateDef {
  readonly name: TemplateName;
  readonly description: string;
  /** Length of θ. */
  paramCount(qubits: number, layers: number): number;
  /** The parameter tensors, concatenated row-major in this order to make θ. */
  paramShape(qubits: number, layers: number): readonly ParamBlock[];
  /** Gate counts by name. */
  gateCounts(qubits: number, layers: number): Readonly<Partial<Record<GateName, number>>>;
  /** The circuit; its parameters are named `theta0 … theta{P−1}` in θ order. */
  build(qubits: number, layers: number): Circuit;
}

export type TemplateName = 'simplified-two-design' | 'alternating-ry-cz';
