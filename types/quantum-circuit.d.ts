// Minimal types for the parts of quantum-circuit (CommonJS, MIT) that qpeft uses. The package ships no
// usable types. Matrix entries are numbers or mathjs-style complex objects {re, im}.
declare module 'quantum-circuit' {
  type Complex = number | { re: number; im: number };
  class QuantumCircuit {
    constructor(numQubits?: number);
    numQubits: number;
    addGate(gateName: string, column: number, wires: number | number[], options?: { params?: Record<string, number | string> }): void;
    appendGate(gateName: string, wires: number | number[], options?: { params?: Record<string, number | string> }): void;
    numCols(): number;
    run(initialValues?: number[], options?: Record<string, unknown>): void;
    /** After `run`: the nonzero amplitudes, keyed by the little-endian basis index (wire 0 = bit 0). */
    state: Record<string, Complex>;
    stateAsArray(onlyPossible?: boolean, skipItems?: number, blockSize?: number, options?: Record<string, unknown>): { index: number; amplitude: Complex; probability: number }[];
    circuitMatrix(endianness?: 'big' | 'little'): Complex[][];
    importQASM(input: string, errorCallback?: (errors: unknown[]) => void, compatibilityMode?: boolean): void;
    exportQASM(comment?: string, decompose?: boolean, exportAsGateName?: string | null, circuitReplacement?: boolean, compatibilityMode?: boolean): string;
    exportQiskit(comment?: string, decompose?: boolean, exportAsGateName?: string | null, versionStr?: string): string;
    exportCirq(comment?: string, decompose?: boolean, exportAsGateName?: string | null, versionStr?: string): string;
    exportBraket(comment?: string, decompose?: boolean, exportAsGateName?: string | null, versionStr?: string): string;
    exportQuil(comment?: string, decompose?: boolean, exportAsGateName?: string | null, versionStr?: string): string;
    exportPyquil(comment?: string, decompose?: boolean, exportAsGateName?: string | null, versionStr?: string): string;
  }
  export = QuantumCircuit;
}
