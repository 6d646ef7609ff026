/** OpenQASM 2/3: export (with target bases and connectivity checks), a real lexer and parser, lowering to the IR. */
export type {
  BinaryOp,
  Expr,
  GateCall,
  GateHead,
  Operand,
  Pos,
  Program as QasmProgram,
  SourceProgram as QasmSourceProgram,
  Statement as QasmStatement,
} from './ast.ts';
export {
  type ConnectivityReport,
  type Coupling,
  checkConnectivity,
  parseCoupling,
  routeCircuit,
} from './connectivity.ts';
export {
  type ExportOptions,
  exportQasm,
  hasSymbolicAngles,
  QASM_BASES,
  type QasmBasis,
  type QasmStats,
  qasmStats,
  type TargetGate,
  toQasmProgram,
  translateGates,
} from './export.ts';
export { readQasmFile } from './file.ts';
export { type Token, tokenize } from './lexer.ts';
export {
  type ParsedQasm,
  type ParseOptions,
  parseQasm,
  parseQasmDetailed,
  type QasmInput,
  type QasmMeasurement,
  type QasmRegister,
} from './lower.ts';
export { parseProgram } from './parser.ts';
export { formatNumber, printExpr, printProgram } from './printer.ts';
export { STD_GATES } from './stdlib.ts';
