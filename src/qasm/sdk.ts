/**
 * Code for hardware SDKs through quantum-circuit's exporters (Qiskit, Cirq, Braket, Quil, pyQuil).
 * quantum-circuit drops symbolic angles, so every parameter is bound first; its exporters also drop the
 * global phase (hardware cannot observe it).
 */
import type { Bindings, Circuit } from '../circuit/ir.ts';
import { describe, InputError, ParameterError } from '../errors.ts';
import { toQuantumCircuit } from '../interop/quantum-circuit.ts';

export type SdkTarget = 'qiskit' | 'cirq' | 'braket' | 'quil' | 'pyquil';
export const SDK_TARGETS: readonly SdkTarget[] = ['qiskit', 'cirq', 'braket', 'quil', 'pyquil'];

/**
 * Program text for a hardware SDK: the circuit with all parameters bound, gate for gate (one gate per
 * quantum-circuit column so the order is kept). Throws `ParameterError` when a parameter has no value.
 */
export function exportSdk(circuit: Circuit, target: SdkTarget, bindings?: Bindings): string {
  if (!SDK_TARGETS.includes(target))
    throw new InputError(`target must be one of ${SDK_TARGETS.join(', ')}, got ${describe(target)}`);
  if (circuit.params.length && bindings === undefined) {
    throw new ParameterError(
      `the circuit has ${circuit.params.length} unbound parameter(s); SDK exports need every angle bound`,
    );
  }
  const qc = toQuantumCircuit(circuit, bindings);
  switch (target) {
    case 'qiskit':
      return qc.exportQiskit();
    case 'cirq':
      return qc.exportCirq();
    case 'braket':
      return qc.exportBraket();
    case 'quil':
      return qc.exportQuil();
    case 'pyquil':
      return qc.exportPyquil();
  }
}
