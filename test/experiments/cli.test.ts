import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { saveTiny, tempDir } from './helpers.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (t) => {
      out += `${t}\n`;
    },
    err: (t) => {
      err += `${t}\n`;
    },
  });
  return { code, out, err };
}

let tmp: ReturnType<typeof tempDir>;
let vit: string;

beforeAll(async () => {
  await initBackend('wasm');
  tmp = tempDir('qpeft-ftcli-');
  vit = saveTiny('vit', path.join(tmp.dir, 'vit'));
});
afterAll(() => tmp.cleanup());

function config(name: string, body: unknown): string {
  const f = path.join(tmp.dir, name);
  writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
  return f;
}

describe('qpeft finetune', () => {
  it('runs from flags and writes result, adapter and QASM', async () => {
    const out = path.join(tmp.dir, 'flags');
    const r = await run(
      'finetune',
      '--model',
      vit,
      '--data',
      'mnist',
      '--method',
      'quantum-peft',
      '--rank',
      '2',
      '--layers',
      '1',
      '--targets',
      'query,key',
      '--epochs',
      '1',
      '--limit',
      '64',
      '--eval-limit',
      '32',
      '--seed',
      '4',
      '--out',
      out,
      '--backend',
      'wasm',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Quantum-PEFT K=2 L=1 on mnist: accuracy \d+\.\d\d% with \d+ trainable parameters/);
    const res = JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8'));
    expect(res.targets).toEqual(['blocks.0.attn.query', 'blocks.0.attn.key']);
    expect(res.seed).toBe(4);
    expect(existsSync(path.join(out, 'adapter', 'circuits', 'blocks.0.attn.key.Q.qasm'))).toBe(true);
  });

  it('reads --config, with flags overriding the file', async () => {
    const out = path.join(tmp.dir, 'cfg');
    const f = config('ok.json', {
      model: vit,
      data: 'mnist',
      method: 'lora',
      rank: 2,
      epochs: 1,
      limit: 32,
      evalLimit: 32,
      maxSteps: 1,
      out,
    });
    const r = await run('finetune', '--config', f, '--rank', '1');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(out, 'result.json'), 'utf8')).label).toBe('LoRA K=1');
  });

  it('validates --config files and flags with clear errors', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['--config', config('unknown.json', { model: vit, rnak: 2 })],
        /unknown key "rnak" \(did you mean "rank"\?\); accepted keys: model, data/,
      ],
      [
        ['--config', config('hf.json', { model: vit, lora_alpha: 16 })],
        /unknown key "lora_alpha" \(did you mean "alpha"\?\)/,
      ],
      [
        ['--config', config('hf2.json', { model: vit, target_modules: ['query'] })],
        /unknown key "target_modules" \(did you mean "targets"\?\)/,
      ],
      [
        ['--config', config('snake.json', { batch_size: 8 })],
        /unknown key "batch_size" \(did you mean "batchSize"\?\)/,
      ],
      [
        ['--config', config('far.json', { zzzzzz: 1 })],
        /unknown key "zzzzzz"; accepted keys: model, data, task/,
      ],
      [['--config', config('type.json', { rank: '2' })], /rank must be a number, got "2"/],
      [['--config', config('bad.json', '{ "rank": 2,')], /is not valid JSON/],
      [['--config', config('arr.json', [1, 2])], /expected a JSON object/],
      [['--config', path.join(tmp.dir, 'nope.json')], /cannot read .*ENOENT/],
      [
        ['--config', config('partial.json', { model: vit, data: 'mnist', method: 'lora', epochs: 1 })],
        /missing required field out/,
      ],
      [
        ['--model', vit, '--data', 'mnist', '--epochs', '1', '--out', tmp.dir],
        /missing required flag --method/,
      ],
      [
        [
          '--model',
          vit,
          '--data',
          'mnist',
          '--method',
          'lorra',
          '--epochs',
          '1',
          '--out',
          path.join(tmp.dir, 'x'),
        ],
        /unknown method "lorra"/,
      ],
      [
        [
          '--model',
          path.join(tmp.dir, 'nomodel'),
          '--data',
          'mnist',
          '--method',
          'lora',
          '--epochs',
          '1',
          '--out',
          tmp.dir,
        ],
        /is not a saved model/,
      ],
      [
        ['--model', vit, '--data', 'mnist', '--method', 'lora', '--epochs', 'two', '--out', tmp.dir],
        /--epochs must be an integer/,
      ],
    ];
    for (const [args, re] of cases) {
      const r = await run('finetune', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
    }
  });
});

describe('qpeft experiment and quickstart', () => {
  it('lists the experiments', async () => {
    const r = await run('experiment', 'list');
    expect(r.code).toBe(0);
    for (const n of ['vision', 'text-gen', 'classify', 'mobilenet']) expect(r.out).toContain(n);
  });

  it('runs an experiment at smoke size and prints its table', async () => {
    const out = path.join(tmp.dir, 'exp');
    const r = await run(
      'experiment',
      'vision',
      '--size',
      'smoke',
      '--base',
      vit,
      '--out',
      out,
      '--only',
      'lora k=1,quantum',
      '--no-plot',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\| LoRA K=1 \| [\d,]+ \|/);
    expect(r.out).toMatch(/\| Quantum-PEFT K=4 L=2 \|/);
    expect(r.out).not.toMatch(/full fine-tuning/);
    expect(existsSync(path.join(out, 'plot.svg'))).toBe(false);
  });

  it('runs the main job on a given base: table, adapters, QASM paths', async () => {
    const out = path.join(tmp.dir, 'qs');
    const r = await run(
      'quickstart',
      '--base',
      vit,
      '--out',
      out,
      '--limit',
      '32',
      '--eval-limit',
      '32',
      '--epochs',
      '1',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Quantum-PEFT K=16 L=4 +\d+ +\d+ +170 +\d+\.\d\d %/);
    expect(r.out).toMatch(/LoRA K=4/);
    expect(r.out).toMatch(/OpenQASM 3 circuits of the Quantum-PEFT adapter \(4 files/);
    expect(existsSync(path.join(out, 'quantum-peft-k-16-l-4', 'adapter', 'adapter_config.json'))).toBe(true);
    // a second start reuses the finished runs
    const again = await run(
      'quickstart',
      '--base',
      vit,
      '--out',
      out,
      '--limit',
      '32',
      '--eval-limit',
      '32',
      '--epochs',
      '1',
    );
    expect(again.err).toMatch(/finished earlier/);
  });
});
