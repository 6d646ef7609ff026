/** A fixed train/validation split of fortune quotations and their language-model byte streams. */
import type { Fortune, FortuneSet } from './fortunes.ts';
import { stratifiedSplit } from './split.ts';
import { lmStream } from './text.ts';

/** Share of each category held out for validation by default. */
export const FORTUNE_VAL_FRACTION = 0.1;
/** Seed of the default split: fixed, so every run (any `--seed`) validates on the same quotations. */
export const FORTUNE_SPLIT_SEED = 0;

export interface FortuneSplit {
  readonly categories: readonly string[];
  readonly train: readonly Fortune[];
  readonly val: readonly Fortune[];
}

/** Split quotations per category (stratified, seeded) into train and validation. */
export function fortuneSplit(
  set: FortuneSet,
  valFraction = FORTUNE_VAL_FRACTION,
  seed = FORTUNE_SPLIT_SEED,
): FortuneSplit {
  const { train, test } = stratifiedSplit(
    set.quotes.map((q) => q.category),
    valFraction,
    seed,
  );
  return {
    categories: set.categories,
    train: Array.from(train, (i) => set.quotes[i]!),
    val: Array.from(test, (i) => set.quotes[i]!),
  };
}

/** The split's quotations as byte streams (each quotation followed by `EOS_BYTE`). */
export function textStreams(split: FortuneSplit): { train: Uint8Array; val: Uint8Array } {
  return { train: lmStream(split.train.map((q) => q.text)), val: lmStream(split.val.map((q) => q.text)) };
}
