/**
 * The gate set of the circuit IR and the facts each part of qpeft needs about a gate: how many wires it
 * takes, whether it has an angle, and whether its matrix is real (RY/CZ circuits are real orthogonal; RX and
 * RZ are complex and are refused by the real simulator and by adapters).
 */

/** Gates with one angle. */
export type RotationName = 'ry' | 'rx' | 'rz';
/** One-qubit gates without an angle. */
export type FixedName = 'x' | 'z' | 'h';
/** Two-qubit gates. `cx` takes `[control, target]`. */
export type TwoQubitName = 'cz' | 'cx' | 'swap';
export type GateName = RotationName | FixedName | TwoQubitName;

export interface GateInfo {
  readonly name: GateName;
  /** Number of wires. */
  readonly arity: 1 | 2;
  /** Whether the gate carries an angle. */
  readonly rotation: boolean;
  /** Whether the gate's matrix is real (so the circuit stays real orthogonal). */
  readonly real: boolean;
}

const info = (name: GateName, arity: 1 | 2, rotation: boolean, real: boolean): GateInfo =>
  Object.freeze({ name, arity, rotation, real });

/** Everything the IR knows about each gate, by name. */
export const GATES: Readonly<Record<GateName, GateInfo>> = Object.freeze({
  ry: info('ry', 1, true, true),
  rx: info('rx', 1, true, false),
  rz: info('rz', 1, true, false),
  x: info('x', 1, false, true),
  z: info('z', 1, false, true),
  h: info('h', 1, false, true),
  cz: info('cz', 2, false, true),
  cx: info('cx', 2, false, true),
  swap: info('swap', 2, false, true),
});

/** Names of the gates whose matrices are real. */
export const REAL_GATES: readonly GateName[] = Object.freeze(
  (Object.keys(GATES) as GateName[]).filter((n) => GATES[n].real),
);

export function isGateName(name: string): name is GateName {
  return Object.hasOwn(GATES, name);
}
