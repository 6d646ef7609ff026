import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeCircuit } from '../../circuit/ir.ts';
import type { TemplateName } from '../../circuit/templates/index.ts';
import { InputError } from '../../errors.ts';
import { evaluateHardware, evaluateMarkdown, writeEvaluation } from '../../experiments/hardware-eval.ts';
import { COUNTS_FORMATS, type CountsFormat, countsToJson, readCounts } from '../../hardware/counts.ts';
import { type Device, deviceFromCouplingFile, getDevice } from '../../hardware/devices.ts';
import { measurementCircuit } from '../../hardware/measurement.ts';
import { optimizeIbm } from '../../hardware/optimize.ts';
import {
  adapterFactors,
  buildPlan,
  directSumNotes,
  type MeasurementPlan,
  PLAN_FILE,
  planFactorRecord,
  readPlan,
  writePlan,
} from '../../hardware/plan.ts';
import {
  reconstruct,
  reconstructionJson,
  reconstructionText,
  writeReconstructedAdapter,
} from '../../hardware/reconstruct.ts';
import { parseNoise } from '../../hardware/shots.ts';
import { simulatePlan } from '../../hardware/simulate.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { QASM_BASES, type QasmBasis, qasmStats } from '../../qasm/export.ts';
import { defaultWorkers } from '../../util/worker-pool.ts';
import { chooseCircuit, circuitFlags, intFlag, parseFlags } from '../args.ts';
import type { Command, Io } from '../command.ts';

const help = `usage: qpeft hardware plan (--adapter DIR [--targets a,b] | (--qubits N | --width D [--form F]) --layers L
                            [--template T] [--seed S | --angles FILE] [--columns K])
                            [--shots S] [--qasm-version 3|2] [--basis native|ibm|u-cx]
                            [--device NAME | --coupling FILE] [--stats] --out PLAN_DIR
       qpeft hardware simulate --plan PLAN_DIR [--shots S] [--noise none|depolarizing:P1,P2] [--readout R|R01,R10]
                            [--device NAME] [--seed S] [--workers W] [--format qiskit|braket] --out COUNTS.json
       qpeft hardware reconstruct --plan PLAN_DIR --counts FILE [--counts FILE …] [--format qiskit|braket]
                            [--out ADAPTER_DIR] [--json]
       qpeft hardware evaluate --run FINETUNE_DIR [--run DIR …] --shots 1e2,1e3,… [--noise none|depolarizing:P1,P2 …]
                            [--readout R] [--seeds 3] [--workers W] [--backend auto|wasm|cpu] --out DIR

The quantum-hardware round trip (docs/hardware.md). 'plan' writes one OpenQASM program per circuit × column ×
setting (n + 1 settings per column: z, and RY(−π/2) on each wire w) with every qubit measured, and
plan.json (circuit ids, files, columns, settings, shots, sign references, layout, gate counts, success
probability under the device's error rates). A factor whose width D is not a power of two (an adapted
layer of width 768, or --width D) is one circuit on ⌈log₂D⌉ qubits (mixed radix or direct sum, as
'qpeft unitary --width D'): column c is prepared as the basis state of P's row c, and only P's D rows are
read back (plan.json "rowBasis"; what noise puts elsewhere is reported as leakage). Devices: ibm-eagle-127 (heavy-hex), ionq-aria-25
(all-to-all), linear-N; --coupling FILE reads an edge list ([[a,b],…] JSON or "a b" lines).
'simulate' samples counts for every plan circuit on the noisy shot simulator (Pauli errors after gates,
readout flips; --device takes its error rates), on worker threads. 'reconstruct' reads counts (qiskit:
bit 0 rightmost or 0x hex keys; braket: qubit 0 leftmost), estimates P̂ and Q̂, re-orthonormalises them
(polar factor), prints fidelity ‖P̂ᵀP‖²/K and the ΔW relative error, writes the rebuilt adapter (--out, a
LoRA-layout adapter the normal loader reads) or prints JSON (--json; columns as 'qpeft unitary --json').
'evaluate' rebuilds each fine-tuning run's adapter from simulated counts (every --noise × --shots, --seeds
seeds each), loads it with the normal loader and measures the held-out metric: results.md / results.json
(mean ± std, fidelity, ΔW error) and plot.svg/png in --out. Several --run folders trained at different
--layers give the depth study.`;

function basisFlag(v: unknown): QasmBasis {
  const b = String(v ?? 'native');
  if (!QASM_BASES.includes(b as QasmBasis)) {
    throw new InputError(`--basis must be one of ${QASM_BASES.join(', ')}, got "${b}"`);
  }
  return b as QasmBasis;
}

function deviceFlags(values: { device?: string; coupling?: string }): Device | undefined {
  if (values.device !== undefined && values.coupling !== undefined) {
    throw new InputError('give either --device or --coupling, not both');
  }
  if (values.device !== undefined) return getDevice(values.device);
  if (values.coupling !== undefined) return deviceFromCouplingFile(values.coupling);
  return undefined;
}

function shotsFlag(v: unknown, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  const s = String(v ?? '');
  const n = Number(s);
  if (s.trim() === '' || !Number.isSafeInteger(n) || n < 1 || n > 1e9) {
    throw new InputError(`--shots must be an integer in 1..1e9 (1e4 notation is fine), got "${s}"`);
  }
  return n;
}

function runPlan(argv: string[], io: Io): number {
  const { values } = parseFlags('hardware', argv, {
    ...circuitFlags,
    adapter: { type: 'string' },
    targets: { type: 'string' },
    columns: { type: 'string' },
    shots: { type: 'string' },
    'qasm-version': { type: 'string', default: '3' },
    basis: { type: 'string', default: 'native' },
    device: { type: 'string' },
    coupling: { type: 'string' },
    stats: { type: 'boolean', default: false },
    out: { type: 'string' },
  });
  if (!values.out) throw new InputError('missing required flag --out PLAN_DIR');
  if (existsSync(path.join(values.out, PLAN_FILE))) {
    throw new InputError(
      `${values.out} already holds a plan (${PLAN_FILE}); choose another --out or remove it`,
    );
  }
  const version = intFlag('qasm-version', values['qasm-version'], 3, 2, 3) as 2 | 3;
  const basis = basisFlag(values.basis);
  const device = deviceFlags(values);
  const shots = shotsFlag(values.shots, 1000);
  let built: ReturnType<typeof buildPlan>;
  if (values.adapter !== undefined) {
    if (['qubits', 'width', 'layers', 'seed', 'angles'].some((f) => values[f as 'qubits'] !== undefined)) {
      throw new InputError(
        '--adapter plans the adapter saved in DIR: drop --qubits/--width/--layers/--seed/--angles',
      );
    }
    const a = adapterFactors(values.adapter);
    if (values.columns !== undefined && Number(values.columns) !== a.factors[0]?.columns) {
      throw new InputError(
        `--columns: an adapter plan measures all K = ${a.factors[0]?.columns} columns (the adapter's rank), so that ΔW can be rebuilt; got ${values.columns}`,
      );
    }
    let layers = a.layers;
    if (values.targets !== undefined) {
      const want = values.targets.split(',').map((t) => t.trim());
      const unknown = want.filter((t) => !layers.some((l) => l.name === t));
      if (unknown.length) {
        throw new InputError(
          `--targets: ${unknown.join(', ')} not adapted by ${values.adapter} (its targets: ${layers.map((l) => l.name).join(', ')})`,
        );
      }
      layers = layers.filter((l) => want.includes(l.name));
    }
    const factors = a.factors.filter((f) => layers.some((l) => l.name === f.layer));
    built = buildPlan({ kind: 'adapter', dir: values.adapter, config: a.config }, factors, layers, {
      shots,
      qasmVersion: version,
      basis,
      ...(device ? { device } : {}),
    });
  } else {
    if (values.targets !== undefined) throw new InputError('--targets needs --adapter');
    // the same circuit and angles as 'qpeft unitary' with these flags (--qubits N, or --width D of any D ≥ 2)
    const ch = chooseCircuit(values);
    const width = ch.factor ? ch.factor.width : 2 ** ch.qubits;
    const k = intFlag('columns', values.columns, 1, 1, width);
    const f = planFactorRecord({
      id: 'template',
      layer: null,
      factor: null,
      circuit: ch.circuit,
      theta: ch.angles,
      columns: k,
      ...(ch.factor ? { rowBasis: ch.factor.rowBasis } : {}),
    });
    const seed = values.angles === undefined ? intFlag('seed', values.seed, 0, 0, 2 ** 32 - 1) : null;
    built = buildPlan(
      {
        kind: 'template',
        template: ch.template.name,
        qubits: ch.qubits,
        layers: ch.layers,
        seed,
        ...(ch.factor ? { width: ch.factor.width, form: ch.factor.form } : {}),
      },
      [f],
      [],
      { shots, qasmVersion: version, basis, ...(device ? { device } : {}) },
    );
  }
  writePlan(values.out, built.plan, built.programs);
  printPlanSummary(io, built.plan, values.stats);
  if (built.plan.source.kind === 'adapter') {
    const c = built.plan.source.config as { layers?: number; template?: TemplateName };
    for (const line of directSumNotes(built.plan.factors, c.layers ?? 2, c.template)) io.out(line);
  }
  return 0;
}

function printPlanSummary(io: Io, plan: MeasurementPlan, stats: boolean): void {
  const c = plan.circuits;
  io.out(
    `wrote ${c.length} OpenQASM ${plan.qasmVersion} programs (basis ${plan.basis}) for ${plan.factors.length} circuit(s) and ${PLAN_FILE}; ${plan.shots} shots each`,
  );
  if (plan.device) {
    io.out(`device ${plan.device.name}: layout (logical -> physical) ${plan.device.layout.join(' ')}`);
    io.out(`  ${plan.device.note}`);
    const ps = c.map((x) => x.successProbability).filter((x): x is number => x !== null);
    if (ps.length) {
      io.out(
        `  estimated success probability per program: ${Math.min(...ps).toFixed(4)} … ${Math.max(...ps).toFixed(4)}`,
      );
    }
  }
  if (!stats) return;
  for (const f of plan.factors) {
    const meas = measurementCircuit(makeCircuit(f.circuit), 0, 0);
    const ry = f.circuit.gates.filter((g) => g.name === 'ry').length + 1;
    const native = qasmStats(meas, { basis: 'native' });
    const ibmPlain = qasmStats(meas, { basis: 'ibm' });
    const ibmOpt = optimizeIbm(meas).stats;
    const fmt = (s: {
      total: number;
      twoQubit: number;
      depth: number;
      counts: Readonly<Record<string, number>>;
    }) =>
      `${s.total} gates (${Object.entries(s.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}), ${s.twoQubit} two-qubit, depth ${s.depth}`;
    io.out(`${f.id} column 0, setting w0 (${ry} RY):`);
    io.out(`  native:           ${fmt(native)}`);
    io.out(
      `  ibm (exporter):   ${fmt(ibmPlain)}; ${((ibmPlain.total - ibmPlain.twoQubit - (ibmPlain.counts.x ?? 0)) / ry).toFixed(2)} gates per RY`,
    );
    io.out(
      `  ibm (optimised):  ${fmt(ibmOpt)}; ${((ibmOpt.total - ibmOpt.twoQubit - (ibmOpt.counts.x ?? 0)) / ry).toFixed(2)} gates per RY`,
    );
  }
}

async function runSimulate(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('hardware', argv, {
    plan: { type: 'string' },
    shots: { type: 'string' },
    noise: { type: 'string' },
    readout: { type: 'string' },
    device: { type: 'string' },
    seed: { type: 'string' },
    workers: { type: 'string' },
    format: { type: 'string', default: 'qiskit' },
    out: { type: 'string' },
  });
  if (!values.plan) throw new InputError('missing required flag --plan PLAN_DIR');
  if (!values.out) throw new InputError('missing required flag --out COUNTS.json');
  const format = countsFormat(values.format);
  const plan = readPlan(values.plan);
  let noise = parseNoise(values.noise, values.readout);
  if (values.device !== undefined) {
    const d = getDevice(values.device);
    if (!d.errors) throw new InputError(`device ${d.name} has no error rates; give --noise and --readout`);
    noise = {
      p1: values.noise !== undefined ? noise.p1 : d.errors.oneQubit,
      p2: values.noise !== undefined ? noise.p2 : d.errors.twoQubit,
      r01: values.readout !== undefined ? noise.r01 : d.errors.readout,
      r10: values.readout !== undefined ? noise.r10 : d.errors.readout,
    };
  }
  const seed = intFlag('seed', values.seed, 0, 0, 2 ** 32 - 1);
  const workers = intFlag('workers', values.workers, defaultWorkers(), 0, 64);
  const shots = values.shots === undefined ? undefined : shotsFlag(values.shots);
  const t0 = performance.now();
  const counts = await simulatePlan(plan, { ...(shots ? { shots } : {}), noise, seed, workers });
  writeFileAtomic(values.out, `${JSON.stringify(countsToJson(plan, counts, format))}\n`);
  io.out(
    `sampled ${plan.circuits.length} circuits × ${shots ?? plan.shots} shots (noise p1=${noise.p1}, p2=${noise.p2}, readout ${noise.r01}/${noise.r10}, seed ${seed}, ${workers} worker(s)) in ${((performance.now() - t0) / 1000).toFixed(2)} s → ${values.out} (${format} bit order)`,
  );
  return 0;
}

function countsFormat(v: unknown): CountsFormat {
  const f = String(v);
  if (!COUNTS_FORMATS.includes(f as CountsFormat)) {
    throw new InputError(`--format must be one of ${COUNTS_FORMATS.join(', ')}, got "${f}"`);
  }
  return f as CountsFormat;
}

function runReconstruct(argv: string[], io: Io): number {
  const { values } = parseFlags('hardware', argv, {
    plan: { type: 'string' },
    counts: { type: 'string', multiple: true },
    format: { type: 'string', default: 'qiskit' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!values.plan) throw new InputError('missing required flag --plan PLAN_DIR');
  if (!values.counts?.length) throw new InputError('missing required flag --counts FILE');
  const plan = readPlan(values.plan);
  if (values.out !== undefined && plan.source.kind !== 'adapter') {
    throw new InputError('--out writes an adapter, but this plan is a bare template: use --json');
  }
  if (values.out !== undefined && existsSync(path.join(values.out, 'adapter_config.json'))) {
    throw new InputError(`${values.out} already holds an adapter; choose another --out or remove it`);
  }
  const counts = readCounts(plan, values.counts, countsFormat(values.format));
  const r = reconstruct(plan, counts);
  if (values.out !== undefined) writeReconstructedAdapter(values.out, plan, r);
  if (values.json) {
    io.out(JSON.stringify(reconstructionJson(plan, r)));
    return 0;
  }
  for (const l of reconstructionText(r)) io.out(l);
  if (values.out !== undefined)
    io.out(`wrote the rebuilt adapter (LoRA layout, ΔŴ = α·P̂·diag(λ)·Q̂ᵀ) to ${values.out}`);
  return 0;
}

async function runEvaluate(argv: string[], io: Io): Promise<number> {
  const { values } = parseFlags('hardware', argv, {
    run: { type: 'string', multiple: true },
    shots: { type: 'string' },
    noise: { type: 'string', multiple: true },
    readout: { type: 'string' },
    seeds: { type: 'string' },
    workers: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string' },
  });
  if (!values.run?.length) throw new InputError('missing required flag --run FINETUNE_DIR');
  if (!values.out) throw new InputError('missing required flag --out DIR');
  if (values.shots === undefined) throw new InputError('missing required flag --shots (e.g. 1e2,1e3,1e4)');
  const shots = values.shots.split(',').map((s) => shotsFlag(s.trim()));
  const noise = (values.noise?.length ? values.noise : ['none']).map((n) => ({
    label:
      n === 'none' && values.readout === undefined
        ? 'noiseless'
        : `${n}${values.readout ? `, readout ${values.readout}` : ''}`,
    model: parseNoise(n, values.readout),
  }));
  const seeds = intFlag('seeds', values.seeds, 3, 1, 100);
  const workers = intFlag('workers', values.workers, defaultWorkers(), 0, 64);
  const { initBackend } = await import('../../tf/backend.ts');
  await initBackend(values.backend as Parameters<typeof initBackend>[0]);
  const rows = await evaluateHardware({
    runs: values.run,
    shots,
    noise,
    seeds,
    workers,
    log: (l) => io.err(l),
  });
  const command = `qpeft hardware evaluate ${argv.join(' ')}`;
  const files = await writeEvaluation(values.out, rows, command);
  io.out(evaluateMarkdown(rows));
  io.out(`wrote ${files.join(', ')} to ${values.out}`);
  return 0;
}

export const hardwareCommand: Command = {
  name: 'hardware',
  summary: 'measurement plans for QPUs, a noisy shot simulator, and adapters rebuilt from counts',
  help,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'plan':
        return runPlan(rest, io);
      case 'simulate':
        return runSimulate(rest, io);
      case 'reconstruct':
        return runReconstruct(rest, io);
      case 'evaluate':
        return runEvaluate(rest, io);
      default:
        throw new InputError(
          `qpeft hardware needs a subcommand: plan, simulate, reconstruct or evaluate; got ${sub === undefined ? 'none' : `"${sub}"`} (see 'qpeft hardware --help')`,
        );
    }
  },
};
