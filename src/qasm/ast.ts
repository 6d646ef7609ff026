/**
 * The OpenQASM syntax tree shared by the parser (text → AST) and the exporter (IR → AST → text). It covers
 * the gate-level subset of OpenQASM 2 and 3 that circuits use; positions are 1-based line and column.
 */

/** A source position (1-based). Synthesised nodes (from the exporter) use line 0. */
export interface Pos {
  readonly line: number;
  readonly column: number;
}

/** The binary operators of angle expressions; `^` and `**` are both exponentiation. */
export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '**';

/** An angle expression. */
export type Expr =
  | { readonly kind: 'num'; readonly value: number; readonly pos: Pos }
  | { readonly kind: 'id'; readonly name: string; readonly pos: Pos }
  | { readonly kind: 'unary'; readonly op: '-' | '+'; readonly arg: Expr; readonly pos: Pos }
  | {
      readonly kind: 'binary';
      readonly op: BinaryOp;
      readonly left: Expr;
      readonly right: Expr;
      readonly pos: Pos;
    }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly Expr[]; readonly pos: Pos };

/** A qubit or bit operand: a whole register (`q`) or one element (`q[3]`). */
export interface Operand {
  readonly name: string;
  readonly index?: number;
  readonly pos: Pos;
}

/** A gate application (`ry(0.5) q[0];`, `gphase(x);`, `U(a, b, c) q;`). */
export interface GateCall {
  readonly kind: 'gate';
  readonly name: string;
  readonly args: readonly Expr[];
  readonly operands: readonly Operand[];
  readonly pos: Pos;
}

export interface Barrier {
  readonly kind: 'barrier';
  readonly operands: readonly Operand[];
  readonly pos: Pos;
}

/** A statement of a program. `qreg`/`creg` print as `qubit[n]`/`bit[n]` in OpenQASM 3. */
export type Statement =
  | { readonly kind: 'version'; readonly major: 2 | 3; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'include'; readonly path: string; readonly pos: Pos }
  | {
      readonly kind: 'qreg' | 'creg';
      readonly name: string;
      /** `null` for a single `qubit q;` / `bit c;` (OpenQASM 3). */
      readonly size: number | null;
      readonly pos: Pos;
    }
  | {
      readonly kind: 'input';
      readonly type: 'float' | 'angle';
      readonly bits: number | null;
      readonly name: string;
      readonly pos: Pos;
    }
  | {
      readonly kind: 'gateDef';
      readonly name: string;
      readonly params: readonly string[];
      readonly qubits: readonly string[];
      readonly body: readonly (GateCall | Barrier)[];
      readonly pos: Pos;
    }
  | {
      readonly kind: 'opaque';
      readonly name: string;
      readonly params: readonly string[];
      readonly qubits: readonly string[];
      readonly pos: Pos;
    }
  | GateCall
  | Barrier
  | { readonly kind: 'measure'; readonly qubit: Operand; readonly target: Operand | null; readonly pos: Pos }
  | { readonly kind: 'comment'; readonly text: string; readonly pos: Pos };

/** A whole program. `version` decides the printed syntax; the parser fills it from the header (default 3). */
export interface Program {
  readonly version: 2 | 3;
  readonly statements: readonly Statement[];
}

/** The position of synthesised nodes. */
export const NOWHERE: Pos = Object.freeze({ line: 0, column: 0 });
