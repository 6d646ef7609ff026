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

/** What a gate definition or `opaque` declaration names: `gate name(params) qubits`. */
export interface GateHead {
  readonly name: string;
  readonly params: readonly string[];
  readonly qubits: readonly string[];
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
  | (GateHead & { readonly kind: 'gateDef'; readonly body: readonly (GateCall | Barrier)[] })
  | (GateHead & { readonly kind: 'opaque' })
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

/*
 * The source syntax tree: what the parser reads (OpenQASM 2 and the OpenQASM 3 language, classical parts
 * included). The lowering executes it at compile time; the exporter's `Program` above is the printed subset.
 */

/** A classical or quantum type as written: `int[8]`, `float`, `angle[20]`, `qubit[3]`, `bit`. */
export interface TypeSpec {
  readonly name:
    | 'int'
    | 'uint'
    | 'float'
    | 'angle'
    | 'bool'
    | 'bit'
    | 'duration'
    | 'stretch'
    | 'complex'
    | 'qubit'
    | 'array';
  /** The width (`int[8]`), or `null` when none is written. */
  readonly size: SExpr | null;
  readonly pos: Pos;
}

/** An expression as written in the source. */
export type SExpr =
  | { readonly kind: 'num'; readonly value: number; readonly integer: boolean; readonly pos: Pos }
  | { readonly kind: 'dur'; readonly value: number; readonly unit: string; readonly pos: Pos }
  | { readonly kind: 'bool'; readonly value: boolean; readonly pos: Pos }
  | { readonly kind: 'str'; readonly value: string; readonly pos: Pos }
  | { readonly kind: 'id'; readonly name: string; readonly pos: Pos }
  | { readonly kind: 'phys'; readonly index: number; readonly pos: Pos }
  | { readonly kind: 'unary'; readonly op: string; readonly arg: SExpr; readonly pos: Pos }
  | {
      readonly kind: 'binary';
      readonly op: string;
      readonly left: SExpr;
      readonly right: SExpr;
      readonly pos: Pos;
    }
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly SExpr[]; readonly pos: Pos }
  | { readonly kind: 'cast'; readonly type: TypeSpec; readonly arg: SExpr; readonly pos: Pos }
  | { readonly kind: 'index'; readonly base: SExpr; readonly index: SExpr; readonly pos: Pos }
  | {
      readonly kind: 'range';
      readonly start: SExpr | null;
      readonly step: SExpr | null;
      readonly end: SExpr | null;
      readonly pos: Pos;
    }
  | { readonly kind: 'set'; readonly items: readonly SExpr[]; readonly pos: Pos }
  | { readonly kind: 'measure'; readonly operand: SExpr; readonly pos: Pos };

/** A gate modifier: `ctrl @`, `ctrl(2) @`, `negctrl @`, `inv @`, `pow(k) @`. */
export type Modifier =
  | { readonly kind: 'ctrl' | 'negctrl'; readonly count: SExpr | null; readonly pos: Pos }
  | { readonly kind: 'inv'; readonly pos: Pos }
  | { readonly kind: 'pow'; readonly exponent: SExpr; readonly pos: Pos };

/** A subroutine argument: `qubit[2] q`, `float[64] x`, `angle a`. */
export interface DefArg {
  readonly type: TypeSpec;
  readonly name: string;
}

/** A statement as written in the source. */
export type SStmt =
  | { readonly kind: 'version'; readonly major: 2 | 3; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'include'; readonly path: string; readonly pos: Pos }
  | { readonly kind: 'pragma'; readonly text: string; readonly pos: Pos }
  /** `qreg q[2];` / `qubit[2] q;` / `creg c[2];` / `bit[2] c;` (`init`: `bit[2] c = measure q;`). */
  | {
      readonly kind: 'qreg' | 'creg';
      readonly name: string;
      readonly size: SExpr | null;
      readonly init: SExpr | null;
      readonly pos: Pos;
    }
  | {
      readonly kind: 'input';
      readonly type: 'float' | 'angle';
      readonly bits: number | null;
      readonly name: string;
      readonly pos: Pos;
    }
  /** A classical declaration: `const int[8] n = 3;`, `angle[20] a = pi/2;`, `float x;`. */
  | {
      readonly kind: 'classical';
      readonly type: TypeSpec;
      readonly name: string;
      readonly init: SExpr | null;
      readonly isConst: boolean;
      readonly pos: Pos;
    }
  /** `x = e;`, `x += e;`, `c[0] = measure q[0];`. */
  | {
      readonly kind: 'assign';
      readonly target: SExpr;
      readonly op: string;
      readonly value: SExpr;
      readonly pos: Pos;
    }
  | (GateHead & { readonly kind: 'gateDef'; readonly body: readonly SStmt[] })
  | (GateHead & { readonly kind: 'opaque' })
  | {
      readonly kind: 'def';
      readonly name: string;
      readonly args: readonly DefArg[];
      readonly returns: TypeSpec | null;
      readonly body: readonly SStmt[];
      readonly pos: Pos;
    }
  | { readonly kind: 'return'; readonly value: SExpr | null; readonly pos: Pos }
  /** A gate call (with modifiers) or a subroutine call used as a statement (`f(q[0], 0.5);`). */
  | {
      readonly kind: 'call';
      readonly modifiers: readonly Modifier[];
      readonly name: string;
      readonly args: readonly SExpr[];
      readonly operands: readonly SExpr[];
      readonly pos: Pos;
    }
  | { readonly kind: 'measure'; readonly qubit: SExpr; readonly target: SExpr | null; readonly pos: Pos }
  | { readonly kind: 'reset'; readonly operand: SExpr; readonly pos: Pos }
  | { readonly kind: 'barrier'; readonly operands: readonly SExpr[]; readonly pos: Pos }
  | {
      readonly kind: 'delay';
      readonly duration: SExpr;
      readonly operands: readonly SExpr[];
      readonly pos: Pos;
    }
  | {
      readonly kind: 'box';
      readonly duration: SExpr | null;
      readonly body: readonly SStmt[];
      readonly pos: Pos;
    }
  | {
      readonly kind: 'for';
      readonly varType: TypeSpec | null;
      readonly name: string;
      readonly iterable: SExpr;
      readonly body: readonly SStmt[];
      readonly pos: Pos;
    }
  | { readonly kind: 'while'; readonly cond: SExpr; readonly body: readonly SStmt[]; readonly pos: Pos }
  /** `let name = q[0:1] ++ r;`: an alias of qubits (the concatenation of the parts, in order). */
  | { readonly kind: 'let'; readonly name: string; readonly parts: readonly SExpr[]; readonly pos: Pos }
  /** OpenQASM 3.1 `switch (v) { case 1, 2 { … } … default { … } }` (no fall-through). */
  | {
      readonly kind: 'switch';
      readonly control: SExpr;
      readonly cases: readonly {
        readonly labels: readonly SExpr[];
        readonly body: readonly SStmt[];
        readonly pos: Pos;
      }[];
      readonly default: readonly SStmt[] | null;
      readonly pos: Pos;
    }
  | {
      readonly kind: 'if';
      readonly cond: SExpr;
      readonly then: readonly SStmt[];
      readonly else: readonly SStmt[] | null;
      readonly pos: Pos;
    }
  | { readonly kind: 'break' | 'continue'; readonly pos: Pos }
  | { readonly kind: 'block'; readonly body: readonly SStmt[]; readonly pos: Pos }
  /** A bare expression statement (`f(x);` after the lowering decides `f` is no gate). */
  | { readonly kind: 'expr'; readonly expr: SExpr; readonly pos: Pos };

/** A whole program as written; `version` comes from the header (default 3). */
export interface SourceProgram {
  readonly version: 2 | 3;
  readonly statements: readonly SStmt[];
}
