/** The module tree: dotted names, parameters, attaching and detaching children from outside, state dicts. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Linear } from '../../src/nn/linear.ts';
import { Module, ModuleList } from '../../src/nn/module.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';

class Pair extends Module {
  readonly a = this.setModule('a', new Linear({ inFeatures: 3, outFeatures: 2, seed: 1 }));
  readonly b = this.setModule(
    'b',
    new ModuleList([new Linear({ inFeatures: 2, outFeatures: 2, bias: false, seed: 2 })]),
  );
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Module', () => {
  it('names modules and parameters with dotted paths', () => {
    const m = new Pair();
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'a', 'b', 'b.0']);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias', 'b.0.weight']);
    expect(m.countParameters()).toEqual({ total: 6 + 2 + 4, trainable: 12 });
    expect(m.getModule('b.0')).toBe(m.b.items[0]);
    expect(() => m.getModule('b.1')).toThrow(/no module "b.1" \(missing "1"\)/);
  });

  it('attaches and detaches children from outside (adapter injection)', () => {
    const m = new Pair();
    const extra = new Linear({ inFeatures: 1, outFeatures: 1 });
    m.a.setModule('adapters', extra);
    expect(m.namedParameters().map(([n]) => n)).toContain('a.adapters.weight');
    expect(m.a.deleteModule('adapters')).toBe(extra);
    expect(m.a.deleteModule('adapters')).toBeUndefined();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['a.weight', 'a.bias', 'b.0.weight']);
    expect(() => m.setModule('bad name', extra)).toThrow(/must match/);
  });

  it('freezes by flag and round-trips a state dict', () => {
    const m = new Pair();
    m.setTrainable(false);
    expect(m.trainableVariables()).toEqual([]);
    const state = m.stateDict();
    const other = new Pair();
    other.loadStateDict(state);
    expect(Array.from(other.a.weight.dataSync())).toEqual(Array.from(state['a.weight']!.data));
    expect(() => other.loadStateDict({})).toThrow(/missing a.weight/);
  });

  it('runs the Linear hook on the frozen output', () => {
    const l = new Linear({ inFeatures: 2, outFeatures: 2, seed: 3 });
    const x = tf.tensor2d([[1, 2]]);
    const base = l.forward(x);
    l.hook = (_x, out) => out.mul(2);
    expect(Array.from(l.forward(x).dataSync())).toEqual(Array.from(base.dataSync(), (v) => v * 2));
    expect(() => l.forward(tf.zeros([1, 3]))).toThrow(/last dimension 2, got shape \[1, 3\]/);
  });
});
