/** The `--data` names of the CLI: `mnist`, `fashion-mnist`, `fortunes:<cat,cat,…|all>`, `sklearn:<table>`. */
import { describe, InputError } from '../errors.ts';
import { loadFashionMnist } from './fashion-mnist.ts';
import { parseCategories } from './fortunes.ts';
import type { ImageSet, SliceOptions } from './images.ts';
import { loadMnist } from './mnist.ts';
import { SKLEARN_TABLES, type SklearnTableName } from './sklearn.ts';

export type DataSpec =
  | { kind: 'image'; name: 'mnist' | 'fashion-mnist' }
  | { kind: 'text'; name: 'fortunes'; categories: string[] }
  | { kind: 'table'; name: SklearnTableName };

/** Parse a data-set name as the CLI's `--data` flag accepts it. */
export function parseDataSpec(spec: string): DataSpec {
  const s = spec.trim();
  if (s === 'mnist' || s === 'fashion-mnist') return { kind: 'image', name: s };
  if (s.startsWith('fortunes:'))
    return { kind: 'text', name: 'fortunes', categories: parseCategories(s.slice('fortunes:'.length)) };
  if (s === 'fortunes')
    throw new InputError('--data fortunes needs categories, e.g. fortunes:science,wisdom (or fortunes:all)');
  if (s.startsWith('sklearn:')) {
    const t = s.slice('sklearn:'.length);
    if ((SKLEARN_TABLES as readonly string[]).includes(t))
      return { kind: 'table', name: t as SklearnTableName };
    throw new InputError(
      `unknown scikit-learn table ${describe(t)}; expected one of ${SKLEARN_TABLES.join(', ')}`,
    );
  }
  throw new InputError(
    `unknown data set ${describe(spec)}; expected mnist, fashion-mnist, fortunes:<categories> or sklearn:<${SKLEARN_TABLES.join('|')}>`,
  );
}

/** Format a spec back to its `--data` string. */
export function formatDataSpec(spec: DataSpec): string {
  return spec.kind === 'text'
    ? `fortunes:${spec.categories.join(',')}`
    : spec.kind === 'table'
      ? `sklearn:${spec.name}`
      : spec.name;
}

/** Load the train or test split of an image data set by name. */
export function loadImageSet(
  name: 'mnist' | 'fashion-mnist',
  split: 'train' | 'test',
  slice: SliceOptions = {},
): ImageSet {
  return name === 'mnist' ? loadMnist({ split, ...slice }) : loadFashionMnist({ split, ...slice });
}
