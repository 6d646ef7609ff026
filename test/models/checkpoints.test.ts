/** The shipped base checkpoints load into the current code and still do their source tasks. */
import { beforeAll, describe, expect, it } from 'vitest';
import { fortuneSplit, textStreams } from '../../src/data/corpus.ts';
import { hasFashionMnist, loadFashionMnist } from '../../src/data/fashion-mnist.ts';
import { hasFortunes, loadFortunes } from '../../src/data/fortunes.ts';
import { DATA_SOURCES } from '../../src/data/paths.ts';
import { lmBatch, windowStarts } from '../../src/data/text.ts';
import { loadModel, readModelConfig } from '../../src/models/checkpoint.ts';
import { correctCount, crossEntropy } from '../../src/models/losses.ts';
import type { TextTransformer } from '../../src/models/text.ts';
import type { ViT } from '../../src/models/vit.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';
import { missing } from '../data/helpers.ts';

const VIT = 'checkpoints/vit-fashion-mnist';
const TEXT = 'checkpoints/text-fortunes';
const SOURCE = ['people', 'politics', 'work', 'men-women', 'wisdom', 'literature'];

beforeAll(async () => {
  await initBackend('wasm');
});

describe('shipped checkpoints', () => {
  it('load strictly with power-of-two hidden sizes', () => {
    const vit = loadModel(VIT) as ViT;
    const text = loadModel(TEXT) as TextTransformer;
    expect(readModelConfig(VIT).kind).toBe('vit');
    expect(vit.config).toMatchObject({ dim: 64, depth: 4, numClasses: 10 });
    expect(text.config).toMatchObject({
      dim: 128,
      depth: 4,
      vocabSize: 256,
      contextLength: 64,
      numClasses: 0,
    });
    const y = tf.tidy(() => vit.forward(tf.zeros([2, 28, 28])));
    expect(y.shape).toEqual([2, 10]);
    y.dispose();
    vit.dispose();
    text.dispose();
  });

  const haveImages = hasFashionMnist();
  it.skipIf(!haveImages)(
    `the ViT classifies Fashion-MNIST test images ${haveImages ? '' : missing('Fashion-MNIST', DATA_SOURCES.fashionMnist.install)}`,
    () => {
      const vit = loadModel(VIT) as ViT;
      const test = loadFashionMnist({ split: 'test', limit: 1000 });
      const ok = tf.tidy(() =>
        correctCount(vit.forward(tf.tensor3d(test.images, [1000, 28, 28])), test.labels),
      );
      expect(ok / 1000).toBeGreaterThan(0.84); // 87.36 % on all 10,000 (checkpoints/README.md)
      vit.dispose();
    },
  );

  const haveText = hasFortunes(SOURCE);
  it.skipIf(!haveText)(
    `the text model predicts validation bytes of its source categories ${haveText ? '' : missing('fortunes', DATA_SOURCES.fortunes.install)}`,
    () => {
      const text = loadModel(TEXT) as TextTransformer;
      const { val } = textStreams(fortuneSplit(loadFortunes(SOURCE)));
      const starts = windowStarts(val.length, 64, 0).subarray(0, 128);
      const loss = tf.tidy(() => {
        const { inputs, targets } = lmBatch(val, starts, 64);
        const logits = text.forward(tf.tensor2d(inputs, [starts.length, 64], 'int32'));
        return crossEntropy(logits.reshape([-1, 256]), tf.tensor1d(targets, 'int32')).dataSync()[0]!;
      });
      expect(loss / Math.LN2).toBeLessThan(3); // 2.650 bits/byte on the whole validation stream
      text.dispose();
    },
  );
});
