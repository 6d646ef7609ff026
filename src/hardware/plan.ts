/**
 * Measurement plans: every circuit × column × setting that determines an adapter's (or a bare template's)
 * factors from counts, as one OpenQASM program each, plus `plan.json` describing them.
 *
 * `plan.json` (format `qpeft-hardware-plan`, version 1) holds, besides the circuit list that scripts read
 * (`circuits[].id`, `file`, `circuit`, `column`, `setting`, `shots`), everything `reconstruct` and `simulate`
 * need without the original adapter: each factor's circuit (the IR, angles bound), its trained angles and
 * true columns' sign references, and for adapters each layer's λ and α.
 *
 * Widths that are not powers of two (docs/method.md §3): a factor of width d is ONE circuit on n = ⌈log₂d⌉
 * qubits (`factorCircuit`, mixed radix or a flattened direct sum) whose d rows are the register basis states
 * `rowBasis[r]` (P[r][c] = U[rowBasis[r]][rowBasis[c]]). Column c is measured by preparing |rowBasis[c]⟩
 * (`PlanCircuit.prepared`), and reconstruction reads the d rows `rowBasis` only: the circuit keeps that
 * subspace invariant, so the other 2^n − d outcomes have probability 0 without noise, and what noise puts
 * there is reported as leakage and dropped. Power-of-two factors have rowBasis = 0…2^n−1.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bindParameters, type Circuit, gateStats, makeCircuit } from '../circuit/ir.ts';
import { getTemplate, type TemplateName } from '../circuit/templates/index.ts';
import { AdapterError, describe, InputError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { dequantizeWeights } from '../io/quant/format.ts';
import { loadSafetensors, SafetensorsError, type StTensor } from '../io/safetensors.ts';
import { type CircuitSource, type FactorForm, factorCircuit, planFactor } from '../peft/factor.ts';
import { parseAdapterQasm } from '../peft/qasm-link.ts';
import { normalizedAdapterConfig, readAdapterConfig, WEIGHTS_FILE } from '../peft/serialize.ts';
import { widthFactor } from '../peft/width-factor.ts';
import { type Coupling, checkConnectivity } from '../qasm/connectivity.ts';
import { exportQasm, QASM_BASES, type QasmBasis, qasmStats } from '../qasm/export.ts';
import { subspaceColumns } from '../sim/simulate.ts';
import { uniformAngles } from '../util/random.ts';
import { chooseLayout, type Device, deviceSuccessProbability, type LayoutChoice } from './devices.ts';
import { columnSettings, measurementCircuit, type Setting, settingLabel } from './measurement.ts';
import { optimizeIbm } from './optimize.ts';
import { planProgram, SDK_PROGRAM_FILES, SDK_PROGRAM_TARGETS } from './sdk-programs.ts';

/**
 * For the direct-sum factors of a plan (finetune's default form for widths that are not powers of two), the
 * gate count of each one's circuit against the mixed-radix circuit of the same width and depth: on hardware
 * the flattened direct sum is often several times longer (docs/hardware.md §6 measures what that costs).
 * One line per distinct (width, layers); empty when no factor is a direct sum.
 */
export function directSumNotes(
  factors: readonly PlanFactor[],
  layers: number,
  template: TemplateName = 'simplified-two-design',
): string[] {
  const seen = new Set<number>();
  const out: string[] = [];
  for (const f of factors) {
    if (f.form !== 'direct-sum' || seen.has(f.dim)) continue;
    seen.add(f.dim);
    const mixed = widthFactor(f.dim, layers, { form: 'mixed-radix', template }).circuit;
    const a = gateStats(makeCircuit(f.circuit));
    const b = gateStats(mixed);
    out.push(
      `width ${f.dim}: direct-sum factors, ${a.total} gates (${a.twoQubit} two-qubit) per circuit; the mixed-radix form of this width has ${b.total} (${b.twoQubit}): for hardware, train with factorForm "mixed-radix" (docs/hardware.md §6)`,
    );
  }
  return out;
}

/** The plan file's name inside a plan directory. */
export const PLAN_FILE = 'plan.json';
const FORMAT = 'qpeft-hardware-plan';
const VERSION = 1;

/**
 * How a column's global sign is fixed: the entry at register basis state `index` (the column's largest under
 * the trained angles; row `rowBasis.indexOf(index)` of P) has `sign`.
 */
export interface SignReference {
  readonly column: number;
  readonly index: number;
  readonly sign: 1 | -1;
}

/** One circuit whose first K columns the plan measures (one P or Q factor, or a bare template). */
export interface PlanFactor {
  /** `<layer>.P`, `<layer>.Q`, or `template`. */
  readonly id: string;
  /** The adapted layer (null for a bare template). */
  readonly layer: string | null;
  readonly factor: 'P' | 'Q' | null;
  readonly qubits: number;
  /** d: the factor's width, the rows of P (2^qubits for a power of two). */
  readonly dim: number;
  /** The register basis state (wire 0 = least significant bit) of each of the d rows of P. */
  readonly rowBasis: readonly number[];
  /** K: the columns measured. */
  readonly columns: number;
  /** The circuit with its angles bound (plain IR data, `makeCircuit` rebuilds it). */
  readonly circuit: Circuit;
  /**
   * The same circuit with its angles free (`params`, angles `scale·θ[param] + offset`): what SDK programs
   * build as a parametrised circuit and bind `theta` to at run time (`run_qiskit.py --parametrized`).
   * Absent in plans written before it existed.
   */
  readonly parametrized?: Circuit;
  /** The trained (or seeded) angles, in the unbound circuit's parameter order. */
  readonly theta: readonly number[];
  /** One sign reference per column (see the file comment of measurement.ts). */
  readonly signs: readonly SignReference[];
  /**
   * For an adapter's template factor: its form (`power-of-two`, `mixed-radix` or `direct-sum`; absent for
   * circuit files and bare templates), so that the planner can say when another form is shorter on hardware.
   */
  readonly form?: 'power-of-two' | 'mixed-radix' | 'direct-sum';
}

/** An adapted layer of an adapter plan: ΔW = α·P·diag(λ)·Qᵀ. */
export interface PlanLayer {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly alpha: number;
  readonly lambda: readonly number[];
  readonly p: string;
  readonly q: string;
}

/** One measured program of the plan. */
export interface PlanCircuit {
  readonly id: string;
  /** The OpenQASM file, relative to the plan directory. */
  readonly file: string;
  /** The factor id (`PlanFactor.id`). */
  readonly circuit: string;
  readonly layer: string | null;
  readonly factor: 'P' | 'Q' | null;
  readonly column: number;
  /** The register basis state prepared before the circuit: rowBasis[column] of the factor. */
  readonly prepared: number;
  readonly setting: Setting;
  readonly shots: number;
  readonly qubits: number;
  /** Gate counts of the written program (its basis), total, two-qubit, depth. */
  readonly gates: Readonly<Record<string, number>>;
  readonly totalGates: number;
  readonly twoQubitGates: number;
  readonly depth: number;
  /** Π (1 − error) over the program's gates and readouts under the device's error rates (null: no device). */
  readonly successProbability: number | null;
}

/** The plan (`plan.json`). */
export interface MeasurementPlan {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  /** How counts map to basis indices (see `counts.ts`). */
  readonly bitOrder: string;
  readonly qasmVersion: 2 | 3;
  readonly basis: QasmBasis;
  readonly shots: number;
  readonly source:
    | { readonly kind: 'adapter'; readonly dir: string; readonly config: Record<string, unknown> }
    | {
        readonly kind: 'template';
        readonly template: string;
        readonly qubits: number;
        readonly layers: number;
        /** null when the angles came from a file. */
        readonly seed: number | null;
        /** For a factor of any width (`--width D`): d and the resolved form. */
        readonly width?: number;
        readonly form?: string;
      };
  readonly device: {
    readonly name: string;
    readonly layout: readonly number[];
    readonly swaps: number;
    readonly note: string;
  } | null;
  readonly factors: readonly PlanFactor[];
  readonly layers: readonly PlanLayer[];
  readonly circuits: readonly PlanCircuit[];
}

/** The bit order every counts reader documents; printed into plan.json. */
export const PLAN_BIT_ORDER =
  'classical bit w holds qubit w; basis index = sum of bit_w * 2^w (wire 0 least significant, as qpeft unitary); Qiskit strings print bit 0 rightmost';

/** Options of `buildPlan`. */
export interface PlanOptions {
  /** Shots per circuit recorded in the plan (what the scripts request; default 1000). */
  shots?: number;
  qasmVersion?: 2 | 3;
  basis?: QasmBasis;
  /** A device (topology and error rates) or a bare coupling map. */
  device?: Device;
}

/** The largest qubit count a plan accepts (the reconstruction holds 2^n-entry vectors per column). */
export const MAX_PLAN_QUBITS = 20;

/**
 * A factor record: true columns of `circuit` at `theta` read on the rows `rowBasis` (default: every basis
 * state, a power-of-two factor), and their sign references.
 */
export function planFactorRecord(spec: {
  id: string;
  layer: string | null;
  factor: 'P' | 'Q' | null;
  circuit: Circuit;
  theta: ArrayLike<number>;
  columns: number;
  rowBasis?: ArrayLike<number>;
}): PlanFactor {
  const n = spec.circuit.qubits;
  if (n > MAX_PLAN_QUBITS) {
    throw new InputError(
      `${spec.id}: ${n} qubits is above the plan limit of ${MAX_PLAN_QUBITS} (reconstruction stores 2^n amplitudes per column)`,
    );
  }
  const rows = Array.from(spec.rowBasis ?? Array.from({ length: 2 ** n }, (_, i) => i));
  checkRowBasis(rows, n, spec.id);
  const dim = rows.length;
  if (!Number.isInteger(spec.columns) || spec.columns < 1 || spec.columns > dim) {
    throw new InputError(
      `${spec.id}: columns K must be an integer in 1..${dim}, got ${describe(spec.columns)}`,
    );
  }
  const bound = bindParameters(spec.circuit, spec.theta);
  const m = subspaceColumns(bound, undefined, rows, spec.columns);
  const signs: SignReference[] = [];
  for (let k = 0; k < spec.columns; k++) {
    let best = 0;
    for (let r = 1; r < dim; r++) {
      if (Math.abs(m.data[r * spec.columns + k]!) > Math.abs(m.data[best * spec.columns + k]!)) best = r;
    }
    signs.push({ column: k, index: rows[best]!, sign: m.data[best * spec.columns + k]! < 0 ? -1 : 1 });
  }
  return {
    id: spec.id,
    layer: spec.layer,
    factor: spec.factor,
    qubits: n,
    dim,
    rowBasis: rows,
    columns: spec.columns,
    circuit: bound,
    parametrized: spec.circuit,
    theta: Array.from(spec.theta),
    signs,
  };
}

/**
 * Check a row map: distinct integers in 0..2^n−1, at least 2 of them, and connected on the hypercube (rows
 * one bit apart), which sign propagation needs (every form in peft/factor.ts is: a prefix 0…d−1, or Gray
 * levels above low wires).
 */
export function checkRowBasis(rows: readonly unknown[], qubits: number, what: string): void {
  const size = 2 ** qubits;
  const seen = new Set<number>();
  for (const r of rows) {
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r >= size || seen.has(r)) {
      throw new InputError(
        `${what}: rowBasis must hold distinct basis states in 0..${size - 1}, got ${describe(r)}`,
      );
    }
    seen.add(r);
  }
  if (rows.length < 2) throw new InputError(`${what}: rowBasis needs at least 2 rows, got ${rows.length}`);
  const reached = new Set<number>([rows[0] as number]);
  const stack = [rows[0] as number];
  while (stack.length) {
    const u = stack.pop()!;
    for (let w = 0; w < qubits; w++) {
      const v = u ^ (1 << w);
      if (seen.has(v) && !reached.has(v)) {
        reached.add(v);
        stack.push(v);
      }
    }
  }
  if (reached.size !== rows.length) {
    throw new InputError(
      `${what}: the rows are not connected on the hypercube (${reached.size} of ${rows.length} reachable by one-bit steps), so column signs cannot be propagated`,
    );
  }
}

/** The factor of a bare template with seeded angles (the same angles as `qpeft unitary --seed S`). */
export function templateFactor(
  template: string,
  qubits: number,
  layers: number,
  seed: number,
  k: number,
): PlanFactor {
  const circuit = getTemplate(template).build(qubits, layers);
  return planFactorRecord({
    id: 'template',
    layer: null,
    factor: null,
    circuit,
    theta: uniformAngles(circuit.params.length, seed),
    columns: k,
  });
}

/**
 * The factor of width `width` (any d ≥ 2: mixed radix, direct sum or a power of two, see `widthFactor`) with
 * seeded angles (the same angles as `qpeft unitary --width D --seed S`) or given `angles`.
 */
export function widthPlanFactor(
  width: number,
  layers: number,
  k: number,
  options: { template?: TemplateName; form?: FactorForm; seed?: number; angles?: ArrayLike<number> } = {},
): { factor: PlanFactor; form: string } {
  const wf = widthFactor(width, layers, {
    ...(options.template ? { template: options.template } : {}),
    ...(options.form ? { form: options.form } : {}),
  });
  const theta = options.angles ?? uniformAngles(wf.circuit.params.length, options.seed ?? 0);
  if (theta.length !== wf.circuit.params.length) {
    throw new InputError(
      `the ${width}-wide factor has ${wf.circuit.params.length} angles, got ${theta.length}`,
    );
  }
  return {
    factor: planFactorRecord({
      id: 'template',
      layer: null,
      factor: null,
      circuit: wf.circuit,
      theta,
      columns: k,
      rowBasis: wf.rowBasis,
    }),
    form: wf.form,
  };
}

/**
 * The factors and layers of a saved Quantum-PEFT adapter directory (`saveAdapter`'s layout): for each
 * target, P (d_in) and Q (d_out), K = the adapter's rank, θ and λ from the safetensors file.
 */
export function adapterFactors(dir: string): {
  factors: PlanFactor[];
  layers: PlanLayer[];
  config: Record<string, unknown>;
} {
  const saved = readAdapterConfig(dir);
  if (saved.method !== 'quantum-peft') {
    throw new AdapterError(
      `${dir}: hardware plans need a quantum-peft adapter (its P and Q are circuits), got method ${describe(saved.method)}`,
    );
  }
  // the loader's own reading of the config (files inlined, old layouts upgraded: factorForm → direct-sum)
  const config = normalizedAdapterConfig(saved, dir) as unknown as {
    rank: number;
    alpha: number;
    template: TemplateName;
    layers: number;
    factorForm: FactorForm;
    circuit?: unknown;
    qasm?: unknown;
  };
  let tensors: Record<string, StTensor>;
  try {
    tensors = dequantizeWeights(loadSafetensors(path.join(dir, WEIGHTS_FILE)));
  } catch (e) {
    if (e instanceof SafetensorsError) throw new AdapterError(`${WEIGHTS_FILE}: ${e.message}`);
    throw e;
  }
  const sourceFor = (which: 'p' | 'q'): CircuitSource => {
    if (config.qasm !== undefined) {
      const q = config.qasm as string | { p: string; q: string };
      return { circuit: parseAdapterQasm(typeof q === 'string' ? q : q[which], which.toUpperCase()) };
    }
    if (config.circuit !== undefined) {
      const c = config.circuit as Circuit | { p: Circuit; q: Circuit };
      return { circuit: makeCircuit('gates' in c ? c : c[which]) };
    }
    return { template: config.template, layers: config.layers, form: config.factorForm };
  };
  const factors: PlanFactor[] = [];
  const layers: PlanLayer[] = [];
  for (const t of saved.targets) {
    const get = (v: string) => {
      const key = `base_model.model.${t.name}.${v}`;
      const tensor = tensors[key];
      if (!tensor) throw new AdapterError(`${dir}: ${WEIGHTS_FILE} has no tensor ${key}`);
      return Float64Array.from(tensor.data);
    };
    const ids: Record<'P' | 'Q', string> = { P: `${t.name}.P`, Q: `${t.name}.Q` };
    for (const [which, dim] of [
      ['P', t.in_features],
      ['Q', t.out_features],
    ] as const) {
      const { plan } = planFactor(dim, sourceFor(which === 'P' ? 'p' : 'q'), which);
      if (plan.kind === 'identity') {
        throw new InputError(
          `${t.name}.${which}: a 1-wide factor is the constant [1] and has no circuit to measure; plan an adapter whose targets are at least 2 wide (or leave this layer out with --targets)`,
        );
      }
      // one circuit on ⌈log₂d⌉ qubits and its row map, whatever the form (power of two, mixed radix, sum)
      const { circuit, rowBasis } = factorCircuit(plan);
      const theta = get(which === 'P' ? 'theta_p' : 'theta_q');
      const record = planFactorRecord({
        id: ids[which],
        layer: t.name,
        factor: which,
        circuit,
        theta,
        columns: config.rank,
        rowBasis,
      });
      const form =
        plan.kind === 'radix' ? 'mixed-radix' : plan.kind === 'sum' ? 'direct-sum' : 'power-of-two';
      factors.push('template' in sourceFor('p') ? { ...record, form } : record);
    }
    layers.push({
      name: t.name,
      inFeatures: t.in_features,
      outFeatures: t.out_features,
      alpha: config.alpha,
      lambda: Array.from(get('lambda')),
      p: ids.P,
      q: ids.Q,
    });
  }
  return { factors, layers, config: saved.config };
}

/** A checked shot count. */
export function checkShots(shots: unknown, what = 'shots'): number {
  if (typeof shots !== 'number' || !Number.isSafeInteger(shots) || shots < 1 || shots > 1e9) {
    throw new InputError(`${what} must be an integer in 1..1e9, got ${describe(shots)}`);
  }
  return shots;
}

/** The plan's programs, relative file → OpenQASM text. */
export type PlanPrograms = Map<string, string>;

/**
 * Build a plan for `factors` (and, for adapters, `layers`): one program per factor × column × setting.
 * Returns the plan and the programs; nothing is written (see `writePlan`).
 */
export function buildPlan(
  source: MeasurementPlan['source'],
  factors: readonly PlanFactor[],
  layers: readonly PlanLayer[],
  options: PlanOptions = {},
): { plan: MeasurementPlan; programs: PlanPrograms } {
  const shots = checkShots(options.shots ?? 1000);
  const version = options.qasmVersion ?? 3;
  if (version !== 2 && version !== 3)
    throw new InputError(`qasmVersion must be 2 or 3, got ${describe(version)}`);
  const basis = options.basis ?? 'native';
  if (!QASM_BASES.includes(basis)) {
    throw new InputError(`basis must be one of ${QASM_BASES.join(', ')}, got ${describe(basis)}`);
  }
  const programs: PlanPrograms = new Map();
  const circuits: PlanCircuit[] = [];
  let deviceInfo: MeasurementPlan['device'] = null;
  const layouts = new Map<number, LayoutChoice>();
  for (const f of factors) {
    const bound = makeCircuit(f.circuit);
    let layout: LayoutChoice | null = null;
    if (options.device) {
      layout = layouts.get(f.qubits) ?? chooseLayout(options.device, bound);
      layouts.set(f.qubits, layout);
      deviceInfo = {
        name: options.device.name,
        layout: layout.physical,
        swaps: layout.swaps,
        note: layout.note,
      };
    }
    for (let k = 0; k < f.columns; k++) {
      const prepared = f.rowBasis[k]!;
      for (const s of columnSettings(f.qubits)) {
        const id = `${f.id}.c${k}.${settingLabel(s)}`;
        const file = `circuits/${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.qasm`;
        const meas = measurementCircuit(bound, prepared, s);
        const coupling: Coupling | undefined = layout?.coupling;
        const comment =
          `qpeft hardware plan: ${id} (factor ${f.id}, column ${k}, prepared |${prepared}>, setting ${settingLabel(s)})` +
          (f.dim !== 2 ** f.qubits
            ? `\nwidth ${f.dim}: rows of P are the basis states ${rowMapText(f.rowBasis)} (little-endian); other outcomes are leakage`
            : '') +
          (layout
            ? `\ndevice ${options.device!.name}: layout (logical -> physical) ${layout.physical.join(' ')}`
            : '');
        const opt = basis === 'ibm' ? optimizeIbm(meas, undefined, coupling) : null;
        const text = opt
          ? opt.qasm(version, { comment })
          : exportQasm(meas, {
              version,
              basis,
              measure: true,
              comment,
              ...(coupling ? { coupling, routing: 'swap' as const } : {}),
            });
        programs.set(file, text);
        const st = opt ? opt.stats : qasmStats(meas, { basis, version, ...(coupling ? { coupling } : {}) });
        const swaps = coupling ? checkConnectivity(meas, coupling).swaps : 0;
        const gates = { ...st.counts };
        if (swaps) gates.swap = (gates.swap ?? 0) + swaps;
        circuits.push({
          id,
          file,
          circuit: f.id,
          layer: f.layer,
          factor: f.factor,
          column: k,
          prepared,
          setting: s,
          shots,
          qubits: f.qubits,
          gates,
          totalGates: st.total,
          twoQubitGates: st.twoQubit,
          depth: st.depth,
          successProbability: options.device
            ? deviceSuccessProbability(options.device, gates, f.qubits)
            : null,
        });
      }
    }
  }
  const plan: MeasurementPlan = {
    format: FORMAT,
    version: VERSION,
    bitOrder: PLAN_BIT_ORDER,
    qasmVersion: version,
    basis,
    shots,
    source,
    device: deviceInfo,
    factors,
    layers,
    circuits,
  };
  return { plan, programs };
}

/**
 * Write a plan directory: every program, the SDK programs that run it (`run_qiskit.py`, `run_braket.py`,
 * `run_cirq.py`), then `plan.json` last (a directory with a plan is complete).
 */
export function writePlan(dir: string, plan: MeasurementPlan, programs: PlanPrograms): void {
  for (const [file, text] of programs) writeFileAtomic(path.join(dir, file), text);
  for (const t of SDK_PROGRAM_TARGETS) writeFileAtomic(path.join(dir, SDK_PROGRAM_FILES[t]), planProgram(t));
  writeFileAtomic(path.join(dir, PLAN_FILE), `${JSON.stringify(plan, null, 1)}\n`);
}

/** Read and check `plan.json` of a plan directory. */
export function readPlan(dir: string): MeasurementPlan {
  const file = path.join(dir, PLAN_FILE);
  if (!existsSync(file)) {
    throw new InputError(
      `no ${PLAN_FILE} in ${describe(dir)} (expected a directory written by 'qpeft hardware plan')`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const p = raw as Partial<MeasurementPlan>;
  if (p?.format !== FORMAT || p.version !== VERSION) {
    throw new InputError(
      `${file}: expected format ${FORMAT} version ${VERSION}, got ${describe(p?.format)} version ${describe(p?.version)}`,
    );
  }
  if (!Array.isArray(p.circuits) || !Array.isArray(p.factors) || !Array.isArray(p.layers)) {
    throw new InputError(`${file}: expected "circuits", "factors" and "layers" lists`);
  }
  // plans written before non-power-of-two widths had no row maps: every basis state is a row
  const factors = p.factors.map((f) => {
    if (typeof f !== 'object' || f === null || typeof f.id !== 'string' || !Number.isInteger(f.qubits)) {
      throw new InputError(`${file}: every factor needs an id and a qubit count, got ${describe(f)}`);
    }
    const rowBasis = f.rowBasis ?? Array.from({ length: 2 ** f.qubits }, (_, i) => i);
    if (!Array.isArray(rowBasis)) throw new InputError(`${file}: factor ${f.id}: rowBasis must be a list`);
    checkRowBasis(rowBasis, f.qubits, `${file}: factor ${f.id}`);
    if (f.dim !== undefined && f.dim !== rowBasis.length) {
      throw new InputError(`${file}: factor ${f.id}: dim ${describe(f.dim)} but ${rowBasis.length} rows`);
    }
    const rows = new Set(rowBasis);
    for (const sref of f.signs ?? []) {
      if (!rows.has(sref.index)) {
        throw new InputError(
          `${file}: factor ${f.id}: the sign reference of column ${describe(sref.column)} is basis state ${describe(sref.index)}, not one of the factor's rows`,
        );
      }
    }
    return { ...f, dim: rowBasis.length, rowBasis };
  });
  const byId = new Map(factors.map((f) => [f.id, f]));
  const circuits = p.circuits.map((c) => {
    const f = byId.get(c.circuit);
    if (!f)
      throw new InputError(`${file}: circuit ${describe(c.id)} names unknown factor ${describe(c.circuit)}`);
    if (!Number.isInteger(c.column) || c.column < 0 || c.column >= f.columns) {
      throw new InputError(
        `${file}: circuit ${describe(c.id)}: column ${describe(c.column)} is not in 0..${f.columns - 1}`,
      );
    }
    const prepared = c.prepared ?? f.rowBasis[c.column]!;
    if (prepared !== f.rowBasis[c.column]) {
      throw new InputError(
        `${file}: circuit ${describe(c.id)} prepares ${describe(prepared)}, but column ${c.column} of ${f.id} is basis state ${f.rowBasis[c.column]}`,
      );
    }
    return { ...c, prepared };
  });
  return { ...(p as MeasurementPlan), factors, circuits };
}

/** The row map as short text: a range when it is 0…d−1, else the list (shortened past 12 entries). */
function rowMapText(rows: readonly number[]): string {
  if (rows.every((r, i) => r === i)) return `0..${rows.length - 1}`;
  return rows.length <= 12
    ? rows.join(' ')
    : `${rows.slice(0, 12).join(' ')} … (${rows.length} in all, plan.json)`;
}

/** A factor's measured program for one plan circuit (the IR that `simulate` runs). */
export function planCircuitProgram(plan: MeasurementPlan, c: PlanCircuit): Circuit {
  const f = plan.factors.find((x) => x.id === c.circuit);
  if (!f) throw new InputError(`plan circuit ${describe(c.id)} names unknown factor ${describe(c.circuit)}`);
  return measurementCircuit(makeCircuit(f.circuit), c.prepared, c.setting);
}
