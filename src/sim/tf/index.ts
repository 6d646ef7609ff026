export { tfColumns, tfColumnsBatch } from './ops-path.ts';
