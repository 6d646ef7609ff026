/** scikit-learn's tables against the CSV files read by Python's csv module, and standardisation. */
import { describe, expect, it } from 'vitest';
import { DATA_SOURCES, dataDir } from '../../src/data/paths.ts';
import {
  featureStats,
  hasSklearnTable,
  loadSklearnTable,
  SKLEARN_TABLES,
  selectRows,
  standardize,
} from '../../src/data/sklearn.ts';
import { stratifiedSplit } from '../../src/data/split.ts';
import { DatasetNotFoundError } from '../../src/errors.ts';
import { missing, python } from './helpers.ts';

const FACTS = {
  digits: { rows: 1797, d: 64, classes: 10 },
  iris: { rows: 150, d: 4, classes: 3 },
  wine: { rows: 178, d: 13, classes: 3 },
  breast_cancer: { rows: 569, d: 30, classes: 2 },
} as const;

const have = SKLEARN_TABLES.every((t) => hasSklearnTable(t));

describe('scikit-learn tables (missing data)', () => {
  it('names the install command when the files are absent', () => {
    expect(() => loadSklearnTable('iris', { dir: '/nonexistent-sklearn' })).toThrow(DatasetNotFoundError);
    expect(() => loadSklearnTable('iris', { dir: '/nonexistent-sklearn' })).toThrow(/python3-sklearn/);
    expect(() => loadSklearnTable('nope' as 'iris')).toThrow(
      /unknown scikit-learn table "nope"; expected one of digits, iris, wine, breast_cancer/,
    );
  });
});

describe.skipIf(!have)(
  `scikit-learn tables (Debian python3-sklearn) ${have ? '' : missing('python3-sklearn', DATA_SOURCES.sklearn.install)}`,
  () => {
    for (const name of SKLEARN_TABLES) {
      it(`${name}: shape, classes, first and last rows, class counts`, () => {
        const t = loadSklearnTable(name);
        const f = FACTS[name];
        expect([t.count, t.numFeatures, t.numClasses]).toEqual([f.rows, f.d, f.classes]);
        expect(t.featureNames).toHaveLength(f.d);
        const ref = python<{ first: number[]; last: number[]; counts: Record<string, number> }>(`
import csv, gzip, io, json
p = '${dataDir('sklearn')}/' + ${JSON.stringify(name === 'wine' ? 'wine_data.csv' : name === 'digits' ? 'digits.csv.gz' : `${name}.csv`)}
text = gzip.open(p, 'rt').read() if p.endswith('.gz') else open(p).read()
rows = list(csv.reader(io.StringIO(text)))
if not p.endswith('.gz'): rows = rows[1:]
counts = {}
for r in rows: counts[r[-1]] = counts.get(r[-1], 0) + 1
print(json.dumps({'first': [float(v) for v in rows[0]], 'last': [float(v) for v in rows[-1]], 'counts': counts}))`);
        const row = (i: number) => [...Array.from(t.features.subarray(i * f.d, (i + 1) * f.d)), t.labels[i]!];
        row(0).forEach((v, j) => {
          expect(v).toBeCloseTo(ref.first[j]!, 4);
        });
        row(t.count - 1).forEach((v, j) => {
          expect(v).toBeCloseTo(ref.last[j]!, 4);
        });
        const counts = new Array(t.numClasses).fill(0);
        for (const l of t.labels) counts[l]++;
        expect(counts).toEqual(counts.map((_, k) => ref.counts[String(k)]));
      });
    }

    it('knows the published facts: iris 50 per class, wine 59/71/48, breast cancer 212 malignant / 357 benign', () => {
      const per = (name: (typeof SKLEARN_TABLES)[number]) => {
        const t = loadSklearnTable(name);
        const c = new Array(t.numClasses).fill(0);
        for (const l of t.labels) c[l]++;
        return c;
      };
      expect(per('iris')).toEqual([50, 50, 50]);
      expect(per('wine')).toEqual([59, 71, 48]);
      expect(per('breast_cancer')).toEqual([212, 357]);
      expect(loadSklearnTable('breast_cancer').classNames).toEqual(['malignant', 'benign']);
      const digits = loadSklearnTable('digits');
      expect(Math.max(...digits.features)).toBe(16);
      expect(Math.min(...digits.features)).toBe(0);
    });

    it('standardises with training statistics (zero mean, unit variance; constant columns to 0)', () => {
      const t = loadSklearnTable('digits');
      const { train, test } = stratifiedSplit(t.labels, 0.2, 1);
      const tr = selectRows(t, train);
      const stats = featureStats(tr);
      const z = standardize(tr, stats);
      const zs = featureStats(z);
      for (let c = 0; c < t.numFeatures; c++) {
        expect(Math.abs(zs.mean[c]!)).toBeLessThan(1e-5);
        if (stats.std[c]! > 0) expect(zs.std[c]!).toBeCloseTo(1, 4);
        else expect(zs.std[c]).toBe(0);
      }
      expect(standardize(selectRows(t, test), stats).count).toBe(test.length);
    });
  },
);
