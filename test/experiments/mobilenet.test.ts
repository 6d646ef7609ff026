import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasFashionMnist, loadFashionMnist } from '../../src/data/fashion-mnist.ts';
import { mobilenetAvailable } from '../../src/experiments/experiment.ts';
import {
  extractFeatures,
  loadMobileNetV2,
  MOBILENET_FEATURE_LAYER,
  MobileNetHead,
} from '../../src/experiments/mobilenet.ts';
import { initBackend, tf } from '../../src/tf/backend.ts';

describe.skipIf(!mobilenetAvailable())('nsfwjs MobileNetV2', () => {
  let model: tf.LayersModel;
  beforeAll(async () => {
    await initBackend('wasm');
    model = await loadMobileNetV2();
  });
  afterAll(() => model?.dispose());

  it('loads offline from the npm tarball with its 224×224×3 input and 5-way output', () => {
    expect(model.inputs[0]!.shape).toEqual([null, 224, 224, 3]);
    expect(model.outputs[0]!.shape).toEqual([null, 5]);
    expect(model.countParams()).toBe(2_619_461);
  });

  it('its dense layers copied into Linear modules compute what the Keras layers compute', () => {
    const before = tf.memory().numTensors;
    const net = new MobileNetHead(model, 10, 0);
    expect([net.dense1.inFeatures, net.dense1.outFeatures, net.dense2.outFeatures]).toEqual([1280, 256, 128]);
    const diff = tf.tidy(() => {
      const x = tf.randomUniform([3, 1280], 0, 1, 'float32', 1);
      const ours = tf.relu(net.dense2.forward(tf.relu(net.dense1.forward(x))));
      const theirs = model.getLayer('dense_2').apply(model.getLayer('dense_1').apply(x)) as tf.Tensor;
      return tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0]!;
    });
    expect(diff).toBeLessThan(1e-5);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!hasFashionMnist())('turns Fashion-MNIST images into 1,280 backbone features, no leaks', () => {
    const set = loadFashionMnist({ split: 'test', limit: 3 });
    const backbone = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer(MOBILENET_FEATURE_LAYER).output,
    });
    const before = tf.memory().numTensors;
    const f = extractFeatures(backbone, set.images, set.labels, 28, 2);
    expect(tf.memory().numTensors).toBe(before);
    expect([f.count, f.dim, f.features.length]).toEqual([3, 1280, 3 * 1280]);
    expect(f.features.every(Number.isFinite)).toBe(true);
    expect(() => extractFeatures(backbone, set.images.subarray(1), set.labels, 28)).toThrow(
      /expected 3 images of 28×28 \(2352 pixels\), got 2351/,
    );
  });
});
