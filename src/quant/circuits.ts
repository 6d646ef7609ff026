/**
 * Circuits of a quantized adapter: bind the (quantized) angles and drop every rotation whose angle is
 * ≡ 0 (mod 4π), which is exactly the identity (RY(0) = I; RY(4πm) = I). Pruned groups decode to exactly 0,
 * so their gates leave the exported circuit. The result is an ordinary bound circuit for `exportQasm`.
 */
import { bindParameters, type Circuit, isRotation, makeCircuit, paramVector } from '../circuit/ir.ts';
import { ANGLE_PERIOD } from '../io/quant/quantize.ts';
import { type ExportOptions, exportQasm } from '../qasm/index.ts';

/** Whether a rotation angle is exactly the identity (a multiple of 4π, 0 included). */
export function isIdentityAngle(angle: number): boolean {
  return angle % ANGLE_PERIOD === 0;
}

/** The circuit with `theta` bound and identity rotations removed, and how many were removed. */
export function pruneCircuit(
  circuit: Circuit,
  theta: ArrayLike<number>,
): { circuit: Circuit; dropped: number } {
  const bound = circuit.params.length ? bindParameters(circuit, paramVector(circuit, theta)) : circuit;
  const gates = bound.gates.filter(
    (g) => !(isRotation(g) && typeof g.angle === 'number' && isIdentityAngle(g.angle)),
  );
  return {
    circuit: makeCircuit({
      qubits: bound.qubits,
      gates,
      params: [],
      ...(bound.globalPhase !== undefined ? { globalPhase: bound.globalPhase } : {}),
    }),
    dropped: bound.gates.length - gates.length,
  };
}

/** OpenQASM (3 by default) of the pruned circuit: quantized angles bound, identity rotations dropped. */
export function exportPrunedQasm(
  circuit: Circuit,
  theta: ArrayLike<number>,
  options: Omit<ExportOptions, 'bindings' | 'unbound'> = {},
): { text: string; dropped: number } {
  const p = pruneCircuit(circuit, theta);
  return { text: exportQasm(p.circuit, { version: 3, ...options }), dropped: p.dropped };
}
