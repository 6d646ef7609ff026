/**
 * Strict adapter configs: a key a method does not read is an error naming it, suggesting the meant key (near
 * misses, Hugging Face's snake_case, another method's name for the same thing) and listing the accepted ones.
 * Before this, `{method: 'lora', r: 4, lora_alpha: 16}` trained with loraAlpha 8 and
 * `{method: 'quantum-peft', layer: 5}` with 2 layers, silently.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { adapterConfig, methodLabel } from '../../src/experiments/methods.ts';
import { getMethod, listMethods, PeftModel } from '../../src/peft/index.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { Tiny } from './helpers.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** The error `fn` throws (the test fails when it throws none). */
function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, got none');
}

describe('strict adapter configs', () => {
  it.each([
    [{ method: 'lora', r: 4, lora_alpha: 16 }, 'lora_alpha', 'loraAlpha'],
    [{ method: 'quantum-peft', rank: 2, layer: 5 }, 'layer', 'layers'],
    [{ method: 'quantum-peft', r: 2 }, 'r', 'rank'],
    [{ method: 'lora', rank: 2 }, 'rank', 'r'],
    [{ method: 'lora', r: 2, alpha: 16 }, 'alpha', 'loraAlpha'],
    [{ method: 'quantum-peft', rank: 2, lora_alpha: 3 }, 'lora_alpha', 'alpha'],
    [{ method: 'adalora', init_r: 4, totalStep: 10 }, 'init_r', 'initR'],
    [{ method: 'lora', r: 2, use_rslora: true }, 'use_rslora', 'useRslora'],
    [{ method: 'houlsby', reduction_factor: 4 }, 'reduction_factor', 'reductionFactor'],
    [{ method: 'quantum-peft', rank: 2, angelInit: 'zero' }, 'angelInit', 'angleInit'],
  ])('refuses %o: names %s, suggests %s, lists the accepted keys', (config, key, meant) => {
    const model = new Tiny();
    const before = model.namedParameters().filter(([, v]) => v.trainable).length;
    const err = errorOf(() => new PeftModel(model, { ...config, targetModules: ['q'] }));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toContain(
      `unknown key "${key}" (did you mean "${meant}"?); accepted keys: method, targetModules, seed, modulesToSave, `,
    );
    const accepted = err.message.split('accepted keys: ')[1]!.split(', ');
    expect(accepted).toContain(meant);
    expect(accepted).toEqual([
      'method',
      'targetModules',
      'seed',
      'modulesToSave',
      ...getMethod(config.method).configKeys,
    ]);
    // nothing was injected: the model is as it was
    expect(model.namedParameters().filter(([, v]) => v.trainable).length).toBe(before);
    model.dispose();
  });

  it('refuses HF snake_case target_modules, and a key with nothing near it without a guess', () => {
    const m = new Tiny();
    expect(
      errorOf(() => new PeftModel(m, { method: 'lora', r: 2, target_modules: ['q'] } as never)).message,
    ).toMatch(/targetModules/);
    const err = errorOf(() => new PeftModel(m, { method: 'bitfit', targetModules: ['q'], dropout: 0.1 }));
    expect(err.message).toBe(
      'bitfit config: unknown key "dropout"; accepted keys: method, targetModules, seed, modulesToSave',
    );
    m.dispose();
  });

  it('still accepts every key a method writes when it saves (normalize ∘ normalize is the identity)', () => {
    const samples: Record<string, Record<string, unknown>> = {
      lora: { r: 2, loraAlpha: 4, useRslora: true },
      dora: { r: 2 },
      vera: { r: 4 },
      adalora: { initR: 4, targetR: 2, totalStep: 20 },
      'quantum-peft': { rank: 2, layers: 1 },
      'quantum-peft-lie': { rank: 2 },
      bitfit: {},
      houlsby: { bottleneck: 2 },
      pfeiffer: {},
      full: { bias: false },
    };
    expect(Object.keys(samples).sort()).toEqual(listMethods().sort());
    for (const [method, extra] of Object.entries(samples)) {
      const def = getMethod(method);
      const once = def.normalize({ method, targetModules: ['q'], ...extra });
      expect(def.normalize(JSON.parse(JSON.stringify(once))), method).toEqual(
        JSON.parse(JSON.stringify(once)),
      );
    }
  });
});

describe('generic fine-tuning knobs', () => {
  it('map to each method’s own fields', () => {
    expect(adapterConfig({ method: 'lora', rank: 3, alpha: 16 }, 0, 100)).toMatchObject({
      r: 3,
      loraAlpha: 16,
    });
    expect(adapterConfig({ method: 'dora', rank: 2 }, 0, 100)).toMatchObject({ r: 2, loraAlpha: 8 });
    expect(adapterConfig({ method: 'quantum-peft', rank: 4, layers: 2 }, 0, 100)).toMatchObject({
      rank: 4,
      layers: 2,
      alpha: 32,
      angleInit: 'uniform',
    });
    // AdaLoRA: initR, targetR = round(2r/3), the budget schedule over the run's steps
    expect(adapterConfig({ method: 'adalora', rank: 6 }, 0, 100)).toMatchObject({
      initR: 6,
      targetR: 4,
      totalStep: 100,
      tinit: 10,
      tfinal: 20,
    });
    expect(adapterConfig({ method: 'bitfit' }, 0, 100).targetModules).toEqual([
      'query',
      'key',
      'value',
      'output',
      'fc1',
      'fc2',
    ]);
  });

  it('the options of a run are strict too, and refused knobs say why', () => {
    expect(() => adapterConfig({ method: 'quantum-peft', options: { layer: 5 } }, 0, 10)).toThrow(
      /quantum-peft config: unknown key "layer" \(did you mean "layers"\?\)/,
    );
    expect(() => adapterConfig({ method: 'bitfit', rank: 4 }, 0, 10)).toThrow(
      /^bitfit has no rank \(it takes none of rank, alpha, layers\); drop --rank$/,
    );
    expect(() => adapterConfig({ method: 'vera', alpha: 4 }, 0, 10)).toThrow(
      /^vera has no alpha \(it takes rank\); drop --alpha$/,
    );
    expect(() => adapterConfig({ method: 'lora', layers: 2 }, 0, 10)).toThrow(/^lora has no layers/);
    expect(() => adapterConfig({ method: 'quantum-peft-lie', layers: 2 }, 0, 10)).toThrow(/drop --layers/);
  });

  it('label rows from the method’s own name and knobs', () => {
    expect(methodLabel({ method: 'lora', rank: 2 })).toBe('LoRA K=2');
    expect(methodLabel({ method: 'quantum-peft' })).toBe('Quantum-PEFT K=16 L=4');
    expect(methodLabel({ method: 'quantum-peft-lie', rank: 3 })).toBe('Quantum-PEFT (Lie) K=3');
    expect(methodLabel({ method: 'dora', rank: 4 })).toBe('DoRA K=4');
    expect(methodLabel({ method: 'houlsby' })).toBe('Houlsby');
    expect(methodLabel({ method: 'full' })).toBe('full fine-tuning');
    expect(methodLabel({ method: 'linear-probe' })).toBe('linear probe');
  });
});
