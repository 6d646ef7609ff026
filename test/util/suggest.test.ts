import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { assertKnownKeys, didYouMean, editDistance } from '../../src/util/suggest.ts';

describe('editDistance', () => {
  it('matches distances worked out by hand', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3); // k→s, e→i, +g
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('rank', 'rank')).toBe(0);
    expect(editDistance('rnak', 'rank')).toBe(1); // one swap of adjacent letters
    expect(editDistance('ca', 'abc')).toBe(3); // optimal string alignment: no edit of a swapped pair
    expect(editDistance('Layers', 'layers')).toBe(0);
  });
});

describe('didYouMean', () => {
  const accepted = ['rank', 'layers', 'alpha', 'targets', 'batchSize'];
  it('finds near misses, snake_case spellings and explicit aliases', () => {
    expect(didYouMean('layer', accepted)).toBe('layers');
    expect(didYouMean('rnak', accepted)).toBe('rank');
    expect(didYouMean('batch_size', accepted)).toBe('batchSize');
    expect(didYouMean('lora_alpha', accepted, { lora_alpha: 'alpha' })).toBe('alpha');
    expect(didYouMean('r', accepted, { r: 'rank' })).toBe('rank');
  });
  it('suggests nothing for a key far from every accepted one', () => {
    expect(didYouMean('epochs', accepted)).toBeNull();
    expect(didYouMean('xy', accepted)).toBeNull();
  });
  it('ignores an alias that points at a key not accepted here', () => {
    expect(didYouMean('lora_alpha', ['rank'], { lora_alpha: 'alpha' })).toBeNull();
  });
});

describe('assertKnownKeys', () => {
  it('accepts known keys and names the unknown one, the meant one and every accepted one', () => {
    expect(() => assertKnownKeys({ rank: 1 }, ['rank', 'alpha'], 'cfg')).not.toThrow();
    expect(() => assertKnownKeys({ rank: 1, alpah: 2 }, ['rank', 'alpha'], 'cfg')).toThrow(
      new InputError('cfg: unknown key "alpah" (did you mean "alpha"?); accepted keys: rank, alpha'),
    );
  });
});
