export { BIT_ORDER, basisIndex, wireBit, wireStride } from './bit-order.ts';
export { type Control, type ControlledOp, lowerControlled, simplifyControls } from './controlled.ts';
export { GATES, type GateInfo, type GateName, isGateName, REAL_GATES } from './gates.ts';
export * from './ir.ts';
export * from './templates/index.ts';
