export { applyCircuit, circuitColumns } from './bridge.ts';
export { tfColumns, tfColumnsBatch } from './ops-path.ts';
