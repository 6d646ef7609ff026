export { Linear, type LinearArgs, type LinearHook } from './linear.ts';
export { Module, ModuleList } from './module.ts';
