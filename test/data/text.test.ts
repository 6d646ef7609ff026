/** Byte encodings, language-model windows and padded sequences; seeded splits and batch orders. */
import { describe, expect, it } from 'vitest';
import { formatDataSpec, parseDataSpec } from '../../src/data/spec.ts';
import { batchOrder, permutation, stratifiedSplit } from '../../src/data/split.ts';
import {
  decodeBytes,
  encodeBytes,
  encodeSequences,
  lmBatch,
  lmStream,
  windowStarts,
} from '../../src/data/text.ts';

describe('text encodings', () => {
  it('streams UTF-8 bytes with an EOS byte after each text', () => {
    const s = lmStream(['ab', 'é']);
    expect(Array.from(s)).toEqual([97, 98, 0, 0xc3, 0xa9, 0]);
    expect(decodeBytes(encodeBytes('héllo'))).toBe('héllo');
  });

  it('cuts non-overlapping windows whose targets are the inputs shifted by one', () => {
    const stream = Uint8Array.from({ length: 20 }, (_, i) => i);
    expect(Array.from(windowStarts(20, 4, 0))).toEqual([0, 4, 8, 12]);
    expect(Array.from(windowStarts(20, 4, 3))).toEqual([3, 7, 11, 15]);
    expect(Array.from(windowStarts(20, 4, 4))).toEqual([4, 8, 12]);
    const { inputs, targets } = lmBatch(stream, [4, 12], 4);
    expect(Array.from(inputs)).toEqual([4, 5, 6, 7, 12, 13, 14, 15]);
    expect(Array.from(targets)).toEqual([5, 6, 7, 8, 13, 14, 15, 16]);
    expect(() => lmBatch(stream, [16], 4)).toThrow(/does not fit a stream of 20 bytes/);
  });

  it('pads and truncates sequences, counting real bytes', () => {
    const { ids, lengths } = encodeSequences(['hi', 'hello', ''], 4);
    expect(Array.from(ids)).toEqual([104, 105, 0, 0, 104, 101, 108, 108, 0, 0, 0, 0]);
    expect(Array.from(lengths)).toEqual([2, 4, 1]);
  });
});

describe('seeded splits', () => {
  it('permutes reproducibly', () => {
    const p = permutation(50, 3);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(permutation(50, 3)).toEqual(p);
    expect(permutation(50, 4)).not.toEqual(p);
  });

  it('stratifies by class and covers every row once', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : 1));
    const { train, test } = stratifiedSplit(labels, 0.25, 0);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(test).filter((i) => labels[i] === 0)).toHaveLength(20);
    expect(Array.from(test).filter((i) => labels[i] === 1)).toHaveLength(5);
    expect(() => stratifiedSplit(labels, 1, 0)).toThrow(/testFraction must be in \(0, 1\), got 1/);
  });

  it('orders mini-batches', () => {
    const b = batchOrder(10, 4, 1);
    expect(b.map((x) => x.length)).toEqual([4, 4, 2]);
    expect(b.flatMap((x) => Array.from(x)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
  });
});

describe('data specs (--data)', () => {
  it('parses every form and names the accepted ones on error', () => {
    expect(parseDataSpec('mnist')).toEqual({ kind: 'image', name: 'mnist' });
    expect(parseDataSpec('fashion-mnist')).toEqual({ kind: 'image', name: 'fashion-mnist' });
    expect(parseDataSpec('fortunes:science, wisdom')).toEqual({
      kind: 'text',
      name: 'fortunes',
      categories: ['science', 'wisdom'],
    });
    expect(parseDataSpec('sklearn:iris')).toEqual({ kind: 'table', name: 'iris' });
    expect(formatDataSpec(parseDataSpec('fortunes:a,b'))).toBe('fortunes:a,b');
    expect(() => parseDataSpec('fortunes')).toThrow(/needs categories, e.g. fortunes:science,wisdom/);
    expect(() => parseDataSpec('sklearn:boston')).toThrow(/unknown scikit-learn table "boston"/);
    expect(() => parseDataSpec('cifar10')).toThrow(
      /expected mnist, fashion-mnist, fortunes:<categories> or sklearn:/,
    );
  });
});
