export {
  FORTUNE_SPLIT_SEED,
  FORTUNE_VAL_FRACTION,
  type FortuneSplit,
  fortuneSplit,
  textStreams,
} from './corpus.ts';
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_COUNTS,
  type FashionMnistOptions,
  hasFashionMnist,
  loadFashionMnist,
} from './fashion-mnist.ts';
export {
  EOS_BYTE,
  type Fortune,
  type FortuneSet,
  hasFortunes,
  listFortuneCategories,
  loadFortunes,
  parseCategories,
  parseFortuneFile,
  stripOverstrike,
} from './fortunes.ts';
export { type IdxArray, type IdxTensor, isGzip, parseIdx, readIdxFile } from './idx.ts';
export { classCounts, type ImageSet, type SliceOptions, selectImages, sliceRange } from './images.ts';
export {
  loadMnist,
  MNIST_TRAIN_FRACTION,
  type MnistOptions,
  mnistClassCounts,
  mnistDigitsDir,
} from './mnist.ts';
export { DATA_SOURCES, type DataSourceName, dataDir, SETUP_APT } from './paths.ts';
export {
  type FeatureStats,
  featureStats,
  hasSklearnTable,
  loadSklearnTable,
  SKLEARN_TABLES,
  type SklearnTableName,
  selectRows,
  standardize,
  type Table,
} from './sklearn.ts';
export { type DataSpec, formatDataSpec, loadImageSet, parseDataSpec } from './spec.ts';
export { batchOrder, permutation, stratifiedSplit } from './split.ts';
export { decodeBytes, encodeBytes, encodeSequences, lmBatch, lmStream, windowStarts } from './text.ts';
