import { bindParameters, gateStats, isParamAngle, isRotation } from '../../circuit/ir.ts';
import { formatTable } from '../../util/table.ts';
import { chooseCircuit, circuitFlags, parseFlags } from '../args.ts';
import type { Command } from '../command.ts';

const help = `usage: qpeft circuit --qubits N --layers L [--template simplified-two-design|alternating-ry-cz]
                     [--seed S | --angles FILE] [--json]

Print a template circuit's gates with their angles (θ in template order; --seed S draws them uniformly in
[-pi, pi) from a seeded generator, default seed 0; --angles FILE reads a JSON array).`;

export const circuitCommand: Command = {
  name: 'circuit',
  summary: 'print a template circuit: gates, wires, angles',
  help,
  run(argv, io) {
    const { values } = parseFlags('circuit', argv, {
      ...circuitFlags,
      json: { type: 'boolean', default: false },
    });
    const ch = chooseCircuit(values);
    const stats = gateStats(ch.circuit);
    const index = new Map(ch.circuit.params.map((p, i) => [p, i]));
    const bound = bindParameters(ch.circuit, ch.angles);
    const gates = ch.circuit.gates.map((g, i) => {
      const b = bound.gates[i]!;
      return {
        name: g.name,
        wires: [...g.wires],
        ...(isRotation(g) && isParamAngle(g.angle)
          ? { param: g.angle.param, paramIndex: index.get(g.angle.param) }
          : {}),
        ...(isRotation(b) ? { angle: b.angle as number } : {}),
      };
    });
    if (values.json) {
      io.out(
        JSON.stringify({
          template: ch.template.name,
          qubits: ch.qubits,
          layers: ch.layers,
          bitOrder: 'little',
          params: ch.circuit.params.length,
          paramShape: ch.template.paramShape(ch.qubits, ch.layers),
          angles: Array.from(ch.angles),
          gates,
          stats,
        }),
      );
      return 0;
    }
    io.out(
      `${ch.template.name}: ${ch.qubits} qubits, ${ch.layers} layers, ${ch.circuit.params.length} parameters (${ch.source}), ` +
        `${stats.total} gates (${Object.entries(stats.counts)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}), depth ${stats.depth}`,
    );
    io.out(
      formatTable([
        ['#', 'gate', 'wires', 'parameter', 'angle'],
        ...gates.map((g, i) => [
          i,
          g.name,
          g.wires.join(','),
          g.param ?? '',
          g.angle === undefined ? '' : g.angle.toFixed(6),
        ]),
      ]),
    );
    return 0;
  },
};
