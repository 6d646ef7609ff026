import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('qpeft quantize', () => {
  it('prints the table (exact bits per parameter) and writes it between the markdown markers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qpeft-quant-cli-'));
    const md = path.join(dir, 'doc.md');
    writeFileSync(md, '# Doc\n\nbefore\n<!-- quant-table:begin -->\nold\n<!-- quant-table:end -->\nafter\n');
    const c = capture();
    const code = await main(
      [
        'quantize',
        '--demo',
        'quantum-peft',
        '--steps',
        '3',
        '--bits',
        '8,2',
        '--adaptive',
        '--out',
        path.join(dir, 'q'),
        '--markdown',
        md,
      ],
      c.io,
    );
    expect(code).toBe(0);
    const text = c.out.join('\n');
    // 726 parameters: angles 674 (6 groups), λ 52 (1 group) → b + 7·32/726
    expect(text).toMatch(/726 quantized parameters/);
    expect(text).toContain((8 + (7 * 32) / 726).toFixed(4));
    expect(text).toContain((2 + (7 * 32) / 726).toFixed(4));
    expect(text).toMatch(/relative Frobenius error of ΔW/);
    const doc = readFileSync(md, 'utf8');
    expect(doc).toMatch(/^# Doc\n\nbefore\n<!-- quant-table:begin -->\n/);
    expect(doc).toMatch(/\| INT8 \| 8\.3085 \|/);
    expect(doc).not.toContain('old');
    expect(doc.endsWith('<!-- quant-table:end -->\nafter\n')).toBe(true);
    for (const sub of ['fp32', 'int8', 'int8-adaptive', 'int2', 'int2-adaptive'])
      expect(readFileSync(path.join(dir, 'q', sub, 'adapter_config.json'), 'utf8')).toContain('"targets"');
  });

  it('explains bad flags in one line', async () => {
    for (const [args, msg] of [
      [
        ['--demo', 'quantum-peft', '--bits', '8,16'],
        /--bits must be a comma-separated list of integers in 1..8/,
      ],
      [['--demo', 'quantum-peft', '--bits', '0'], /--bits must be/],
      [['--bits', '4'], /give exactly one of --adapter DIR and --demo/],
      [['--demo', 'lora'], /--demo must be quantum-peft or quantum-peft-lie, got "lora"/],
      [['--adapter', '/nonexistent/x'], /does not exist/],
    ] as [string[], RegExp][]) {
      const c = capture();
      expect(await main(['quantize', ...args], c.io)).toBe(2);
      expect(c.err.join('\n')).toMatch(msg);
    }
  });
});

describe('qpeft quantize on a fine-tuning run', () => {
  const base = path.resolve('checkpoints/vit-fashion-mnist');
  it.skipIf(!existsSync(path.join(base, 'model.safetensors')))(
    'scores each quantized adapter on the run’s task and reproduces the float32 metric',
    async () => {
      const { finetune } = await import('../../src/experiments/finetune.ts');
      const run = mkdtempSync(path.join(tmpdir(), 'qpeft-quant-run-'));
      const r = await finetune({
        base,
        data: 'mnist',
        method: { method: 'quantum-peft-lie', rank: 2 },
        epochs: 1,
        trainLimit: 96,
        evalLimit: 64,
        lr: 5e-3,
        out: run,
        log: () => {},
      });
      const c = capture();
      expect(
        await main(['quantize', '--adapter', run, '--bits', '8,1', '--adaptive', '--eval-limit', '64'], c.io),
      ).toBe(0);
      const text = c.out.join('\n');
      const pctOf = (v: number) => `${(100 * v).toFixed(2)}%`;
      expect(text).toContain(
        `float32: accuracy ${pctOf(r.value)}, the run reported accuracy ${pctOf(r.value)}`,
      );
      expect(text).toMatch(/INT8 +8\.\d{4} +\d+\.\d\d%/);
      expect(text).toMatch(/held-out accuracy/);
    },
  );
});
