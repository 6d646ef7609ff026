import { performance } from 'node:perf_hooks';
import { simplifiedTwoDesign } from '../../circuit/templates/index.ts';
import { InputError } from '../../errors.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { loraParamCount, quantumPeftParamCount, twoDesignParamCount } from '../../peft/param-counts.ts';
import { exportQasm, qasmStats } from '../../qasm/export.ts';
import { assertProcessBudget } from '../../sim/capacity.ts';
import { columns } from '../../sim/simulate.ts';
import { orthogonalityError } from '../../util/matrix.ts';
import { uniformAngles } from '../../util/random.ts';
import { formatTable } from '../../util/table.ts';
import { intFlag, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft demo [--dim D] [--rank K] [--layers L] [--seed S] [--qasm-out FILE] [--json]

Build the two orthogonal factors of a Quantum-PEFT adapter for a D×D layer (default 1024, a power of two)
from simplified two-design circuits on log2(D) qubits, and compare its trainable parameter count with
LoRA's at the same rank; report the orthogonality error of the factors in float64 and float32.
Also show the OpenQASM 3 program of P with its angles bound (the first lines; --qasm-out FILE writes it all).`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Quantum-PEFT factors for a 1024×1024 layer: parameters vs LoRA, orthogonality',
  help,
  run(argv, io) {
    const { values } = parseFlags('demo', argv, {
      dim: { type: 'string' },
      rank: { type: 'string' },
      layers: { type: 'string' },
      seed: { type: 'string' },
      'qasm-out': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const dim = intFlag('dim', values.dim, 1024, 2, 2 ** 24);
    const qubits = Math.log2(dim);
    if (!Number.isInteger(qubits)) {
      throw new InputError(
        `--dim must be a power of two for this demo (other sizes need the adapters' generalized gates), got ${dim}`,
      );
    }
    const rank = intFlag('rank', values.rank, 8, 1, dim);
    const layers = intFlag('layers', values.layers, 2, 0, 1000);
    const seed = intFlag('seed', values.seed, 0, 0, 2 ** 32 - 1);
    const circuit = simplifiedTwoDesign(qubits, layers);
    const thetaP = uniformAngles(circuit.params.length, seed);
    const thetaQ = uniformAngles(circuit.params.length, seed + 1);
    // one factor at a time: each matrix is dropped once its error is known, so the process holds one
    // float64 factor and its simulation state at most (checked against the budget before any work)
    const factor = dim * rank * 8;
    assertProcessBudget(`demo --dim ${dim} --rank ${rank}`, [
      ['one float64 factor', factor],
      ['its simulation state', factor],
    ]);
    const t0 = performance.now();
    let m = columns(circuit, thetaP, rank);
    const ms64 = performance.now() - t0;
    const errP64 = orthogonalityError(m);
    const t1 = performance.now();
    m = columns(circuit, thetaP, rank, { dtype: 'float32' });
    const ms32 = performance.now() - t1;
    const errP32 = orthogonalityError(m);
    m = columns(circuit, thetaQ, rank);
    const errQ64 = orthogonalityError(m);
    const qpeft = quantumPeftParamCount(qubits, qubits, layers, rank);
    const lora = loraParamCount(dim, dim, rank);
    const pQasm = exportQasm(circuit, { version: 3, bindings: thetaP });
    const pStats = qasmStats(circuit, { basis: 'native' });
    if (values['qasm-out'] !== undefined) writeFileAtomic(values['qasm-out'], pQasm);
    const result = {
      layer: [dim, dim],
      qubits,
      layers,
      rank,
      circuitParams: twoDesignParamCount(qubits, layers),
      quantumPeftParams: qpeft,
      loraParams: lora,
      ratio: lora / qpeft,
      orthogonalityError: {
        float64: Math.max(errP64, errQ64),
        float32: errP32,
      },
      buildMs: { float64: ms64, float32: ms32 },
      pQasm,
      pQasmStats: {
        counts: pStats.counts,
        total: pStats.total,
        twoQubit: pStats.twoQubit,
        depth: pStats.depth,
      },
    };
    if (values.json) {
      io.out(JSON.stringify(result));
      return 0;
    }
    io.out(`Quantum-PEFT adapter for a ${dim}×${dim} layer: ΔW = α·P·diag(λ)·Qᵀ, rank K = ${rank}`);
    io.out(
      `P and Q: first ${rank} columns of simplified two-design circuits on ${qubits} qubits, ${layers} layers\n`,
    );
    io.out(
      formatTable([
        ['method', 'trainable parameters', 'formula'],
        ['Quantum-PEFT', qpeft, `2·(n + 2L(n−1)) + K = 2·${result.circuitParams} + ${rank}`],
        [`LoRA (r = ${rank})`, lora, `K·(d_in + d_out) = ${rank}·${2 * dim}`],
      ]),
    );
    io.out(`\nLoRA needs ${result.ratio.toFixed(1)}× more trainable parameters.`);
    io.out(
      `max|PᵀP − I|: ${result.orthogonalityError.float64.toExponential(2)} (float64), ${result.orthogonalityError.float32.toExponential(2)} (float32); ` +
        `P built in ${result.buildMs.float64.toFixed(2)} ms (float64), ${result.buildMs.float32.toFixed(2)} ms (float32)`,
    );
    const lines = pQasm.trimEnd().split('\n');
    const shown = 10;
    io.out(
      `\nP as OpenQASM 3 (angles bound, seed ${seed}): ${pStats.total} gates (` +
        `${Object.entries(pStats.counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}), ${pStats.twoQubit} two-qubit, depth ${pStats.depth}; ${pStats.connectivity.note}`,
    );
    io.out(
      lines
        .slice(0, shown)
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    if (lines.length > shown) {
      io.out(
        `  … ${lines.length - shown} more lines; ` +
          (values['qasm-out'] !== undefined
            ? `full program written to ${values['qasm-out']}`
            : `full program: qpeft qasm --qubits ${qubits} --layers ${layers} --seed ${seed} (or demo --qasm-out FILE)`),
      );
    } else if (values['qasm-out'] !== undefined) io.out(`  (written to ${values['qasm-out']})`);
    return 0;
  },
};
