/**
 * scikit-learn's small bundled tables (digits, iris, wine, breast_cancer) read from the CSV files that
 * Debian's `python3-sklearn` installs. iris/wine/breast_cancer start with a header `n,d,class names…`;
 * digits (8×8 images, grey levels 0..16) is gzip with no header. The last column is the class index.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError, describe, InputError } from '../errors.ts';
import { dataDir, hasFiles, requireFiles } from './paths.ts';

/** A labelled table: `count × numFeatures` values row-major, one integer class per row. */
export interface Table {
  readonly name: string;
  readonly count: number;
  readonly numFeatures: number;
  readonly features: Float32Array;
  readonly labels: Int32Array;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly featureNames: readonly string[];
}

export const SKLEARN_TABLES = ['digits', 'iris', 'wine', 'breast_cancer'] as const;
export type SklearnTableName = (typeof SKLEARN_TABLES)[number];

const CANCER_BASE = [
  'radius',
  'texture',
  'perimeter',
  'area',
  'smoothness',
  'compactness',
  'concavity',
  'concave points',
  'symmetry',
  'fractal dimension',
];

/** File, shape and column names of each table (the names are scikit-learn's). */
const SPECS: Record<
  SklearnTableName,
  { file: string; header: boolean; featureNames: string[]; classNames?: string[] }
> = {
  digits: {
    file: 'digits.csv.gz',
    header: false,
    featureNames: Array.from({ length: 64 }, (_, i) => `pixel_${Math.floor(i / 8)}_${i % 8}`),
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  },
  iris: {
    file: 'iris.csv',
    header: true,
    featureNames: ['sepal length (cm)', 'sepal width (cm)', 'petal length (cm)', 'petal width (cm)'],
  },
  wine: {
    file: 'wine_data.csv',
    header: true,
    featureNames: [
      'alcohol',
      'malic_acid',
      'ash',
      'alcalinity_of_ash',
      'magnesium',
      'total_phenols',
      'flavanoids',
      'nonflavanoid_phenols',
      'proanthocyanins',
      'color_intensity',
      'hue',
      'od280/od315_of_diluted_wines',
      'proline',
    ],
  },
  breast_cancer: {
    file: 'breast_cancer.csv',
    header: true,
    featureNames: [
      ...CANCER_BASE.map((b) => `mean ${b}`),
      ...CANCER_BASE.map((b) => `${b} error`),
      ...CANCER_BASE.map((b) => `worst ${b}`),
    ],
  },
};

function tableFile(name: SklearnTableName, dir?: string): string {
  return path.join(dataDir('sklearn', dir), SPECS[name].file);
}

/** True when the table's CSV file is installed. */
export function hasSklearnTable(name: SklearnTableName, dir?: string): boolean {
  return hasFiles([tableFile(name, dir)]);
}

/**
 * Load one of scikit-learn's small tables (raw feature values; see `standardize`). A missing file is a
 * `DatasetNotFoundError` with the install command; a malformed one a `DataError` with its line number.
 */
export function loadSklearnTable(name: SklearnTableName, opts: { dir?: string } = {}): Table {
  if (!(SKLEARN_TABLES as readonly string[]).includes(name)) {
    throw new InputError(
      `unknown scikit-learn table ${describe(name)}; expected one of ${SKLEARN_TABLES.join(', ')}`,
    );
  }
  const spec = SPECS[name];
  const file = tableFile(name, opts.dir);
  requireFiles('sklearn', `scikit-learn's ${name} table`, [file]);
  let bytes: Uint8Array = readFileSync(file);
  if (file.endsWith('.gz')) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${file}: gzip data is corrupt (${(e as Error).message})`);
    }
  }
  const lines = new TextDecoder()
    .decode(bytes)
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const d = spec.featureNames.length;
  let classNames = spec.classNames ?? [];
  let expectedRows: number | undefined;
  let first = 0;
  if (spec.header) {
    const head = lines[0]?.split(',') ?? [];
    const n = Number(head[0]);
    const dd = Number(head[1]);
    if (!Number.isInteger(n) || dd !== d || head.length < 3) {
      throw new DataError(
        `${file}: expected a header "rows,${d},class names…", got ${describe(lines[0] ?? '')}`,
      );
    }
    expectedRows = n;
    classNames = head.slice(2).map((s) => s.trim());
    first = 1;
  }
  const rows = lines.length - first;
  if (expectedRows !== undefined && rows !== expectedRows) {
    throw new DataError(`${file}: the header promises ${expectedRows} rows, the file has ${rows}`);
  }
  const features = new Float32Array(rows * d);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells = lines[first + r]!.split(',');
    if (cells.length !== d + 1) {
      throw new DataError(
        `${file}, line ${first + r + 1}: expected ${d + 1} values (${d} features and a class), got ${cells.length}`,
      );
    }
    for (let c = 0; c < d; c++) {
      const v = Number(cells[c]);
      if (!Number.isFinite(v) || cells[c]!.trim() === '') {
        throw new DataError(
          `${file}, line ${first + r + 1}, column ${c + 1}: expected a number, got ${describe(cells[c])}`,
        );
      }
      features[r * d + c] = v;
    }
    const y = Number(cells[d]);
    if (!Number.isInteger(y) || y < 0 || y >= classNames.length) {
      throw new DataError(
        `${file}, line ${first + r + 1}: expected a class index in 0..${classNames.length - 1}, got ${describe(cells[d])}`,
      );
    }
    labels[r] = y;
  }
  return {
    name,
    count: rows,
    numFeatures: d,
    features,
    labels,
    numClasses: classNames.length,
    classNames,
    featureNames: spec.featureNames,
  };
}

/** Per-feature mean and standard deviation (population), for `standardize`. */
export interface FeatureStats {
  mean: Float64Array;
  std: Float64Array;
}

/** Mean and standard deviation of each feature over the rows of `table` (typically the training rows). */
export function featureStats(table: Pick<Table, 'count' | 'numFeatures' | 'features'>): FeatureStats {
  const { count: n, numFeatures: d, features: x } = table;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c]! += x[r * d + c]! / n;
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) std[c]! += (x[r * d + c]! - mean[c]!) ** 2 / n;
  for (let c = 0; c < d; c++) std[c] = Math.sqrt(std[c]!);
  return { mean, std };
}

/**
 * A copy of `table` with each feature shifted and scaled to zero mean and unit variance using `stats`
 * (by default the table's own). Constant features (std 0, e.g. digits' corner pixels) become 0.
 */
export function standardize<T extends Pick<Table, 'count' | 'numFeatures' | 'features'>>(
  table: T,
  stats = featureStats(table),
): T {
  const { count: n, numFeatures: d, features: x } = table;
  if (stats.mean.length !== d)
    throw new InputError(`standardize: stats have ${stats.mean.length} features, the table has ${d}`);
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) {
      const s = stats.std[c]!;
      out[r * d + c] = s > 0 ? (x[r * d + c]! - stats.mean[c]!) / s : 0;
    }
  }
  return { ...table, features: out };
}

/** The rows at `indices` (in that order) as a new table. */
export function selectRows(table: Table, indices: ArrayLike<number>): Table {
  const d = table.numFeatures;
  const features = new Float32Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= table.count) {
      throw new InputError(`row index must be an integer in 0..${table.count - 1}, got ${describe(j)}`);
    }
    features.set(table.features.subarray(j * d, (j + 1) * d), i * d);
    labels[i] = table.labels[j]!;
  }
  return { ...table, count: indices.length, features, labels };
}
