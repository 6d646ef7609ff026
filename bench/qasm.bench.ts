/**
 * OpenQASM export and parse of a 20-qubit, 50-layer simplified two-design (2,870 gates), and parse
 * throughput next to quantum-circuit's importQASM on the same OpenQASM 2 text, in one run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { simplifiedTwoDesign } from '../src/circuit/index.ts';
import { quantumCircuitClass } from '../src/interop/quantum-circuit.ts';
import { exportQasm, parseQasm } from '../src/qasm/index.ts';
import { uniformAngles } from '../src/util/random.ts';
import { timeMs } from './timing.ts';

export default async function qasmBench(): Promise<void> {
  const circuit = simplifiedTwoDesign(20, 50);
  const theta = uniformAngles(circuit.params.length, 0);
  const v2 = exportQasm(circuit, { version: 2, bindings: theta });
  const v3 = exportQasm(circuit, { version: 3, bindings: theta });
  const unbound = exportQasm(circuit, { unbound: true });
  const mb = (s: string) => Buffer.byteLength(s) / 1e6;
  const QC = quantumCircuitClass();
  const rows: [string, number, number][] = [];
  const row = async (
    label: string,
    bytes: number,
    fn: () => unknown,
    opts?: Parameters<typeof timeMs>[1],
  ) => {
    const ms = await timeMs(fn, opts);
    rows.push([label, ms, bytes / (ms / 1000)]);
  };
  await row('export OpenQASM 3 (bound)', mb(v3), () => exportQasm(circuit, { bindings: theta }));
  await row('export OpenQASM 2 (bound)', mb(v2), () => exportQasm(circuit, { version: 2, bindings: theta }));
  await row('export OpenQASM 3 (inputs)', mb(unbound), () => exportQasm(circuit, { unbound: true }));
  await row('export ibm basis', mb(v3), () => exportQasm(circuit, { basis: 'ibm', bindings: theta }));
  await row('qpeft parseQasm, OpenQASM 2', mb(v2), () => parseQasm(v2));
  await row('qpeft parseQasm, OpenQASM 3 (bound)', mb(v3), () => parseQasm(v3));
  await row('qpeft parseQasm, OpenQASM 3 (inputs)', mb(unbound), () => parseQasm(unbound));
  await row(
    'quantum-circuit importQASM, OpenQASM 2',
    mb(v2),
    () => {
      const qc = new QC();
      qc.importQASM(v2, (errors) => {
        if (errors.length) throw new Error(JSON.stringify(errors));
      });
    },
    { warmup: 1, minRuns: 3, minMs: 500, maxRuns: 10 },
  );
  // Real programs from the corpus (QASMBench, OpenQASM 2 with qelib1.inc gates): both readers, same text.
  const corpus = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'qasm-corpus', 'qasmbench');
  for (const name of ['hhl_n7.qasm', 'qaoa_n6.qasm']) {
    const text = readFileSync(path.join(corpus, name), 'utf8');
    await row(`qpeft parseQasm, ${name}`, mb(text), () => parseQasm(text));
    await row(
      `quantum-circuit importQASM, ${name}`,
      mb(text),
      () => {
        const qc = new QC();
        qc.importQASM(text, (errors) => {
          if (errors.length) throw new Error(JSON.stringify(errors));
        });
      },
      { warmup: 1, minRuns: 3, minMs: 500, maxRuns: 10 },
    );
  }
  console.log(
    `circuit: 20 qubits, 50 layers, ${circuit.gates.length} gates, ${circuit.params.length} angles; ` +
      `text: ${(mb(v2) * 1000).toFixed(1)} kB (QASM 2), ${(mb(v3) * 1000).toFixed(1)} kB (QASM 3), ${(mb(unbound) * 1000).toFixed(1)} kB (inputs)`,
  );
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'step'.padEnd(w)}  ${'median ms'.padStart(10)}  ${'MB/s'.padStart(8)}`);
  for (const [label, ms, rate] of rows)
    console.log(`${label.padEnd(w)}  ${ms.toFixed(2).padStart(10)}  ${rate.toFixed(1).padStart(8)}`);
  const ours = rows.find((r) => r[0] === 'qpeft parseQasm, OpenQASM 2')![1];
  const theirs = rows.find((r) => r[0].startsWith('quantum-circuit'))![1];
  console.log(
    `parse speed-up over quantum-circuit importQASM on the same text: ${(theirs / ours).toFixed(1)}×`,
  );
  for (const name of ['hhl_n7.qasm', 'qaoa_n6.qasm']) {
    const a = rows.find((r) => r[0] === `qpeft parseQasm, ${name}`)![1];
    const b = rows.find((r) => r[0] === `quantum-circuit importQASM, ${name}`)![1];
    console.log(`parse speed-up over quantum-circuit importQASM on ${name}: ${(b / a).toFixed(1)}×`);
  }
}
