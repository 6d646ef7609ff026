/** Fortune files: parsing rules on literal text, then the installed categories against an independent count. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fortuneSplit, textStreams } from '../../src/data/corpus.ts';
import {
  EOS_BYTE,
  hasFortunes,
  listFortuneCategories,
  loadFortunes,
  parseCategories,
  parseFortuneFile,
  stripOverstrike,
} from '../../src/data/fortunes.ts';
import { DATA_SOURCES, dataDir } from '../../src/data/paths.ts';
import { DatasetNotFoundError } from '../../src/errors.ts';
import { missing, python } from './helpers.ts';

describe('fortune file format', () => {
  it('splits on lines holding only %, trims, drops empty quotations', () => {
    expect(parseFortuneFile('one\nline\n%\n\ntwo\n%\n%\nthree %\n%  \n')).toEqual([
      'one\nline',
      'two',
      'three %',
    ]);
  });

  it('resolves backspace overstriking to what a terminal shows', () => {
    expect(stripOverstrike('_\bA_\bB c')).toBe('AB c');
    expect(stripOverstrike('N\bNo')).toBe('No');
  });

  it('reports missing data with the install command', () => {
    expect(() => loadFortunes(['science'], { dir: '/nonexistent-fortunes' })).toThrow(DatasetNotFoundError);
    expect(() => loadFortunes(['science'], { dir: '/nonexistent-fortunes' })).toThrow(
      /apt-get install -y fortunes/,
    );
    expect(listFortuneCategories('/nonexistent-fortunes')).toEqual([]);
    expect(() => parseCategories(' , ')).toThrow(
      /expected fortune categories like "science,wisdom" or "all"/,
    );
  });
});

const have = hasFortunes(['science', 'wisdom', 'computers']);
describe.skipIf(!have)(
  `fortunes (Debian) ${have ? '' : missing('fortunes', DATA_SOURCES.fortunes.install)}`,
  () => {
    it('lists the installed categories (plain files with a .dat index)', () => {
      const cats = listFortuneCategories();
      expect(cats).toContain('science');
      expect(cats).toContain('wisdom');
      expect(cats.some((c) => c.includes('.'))).toBe(false);
      expect(parseCategories('all')).toEqual(cats);
    });

    it('loads as many quotations as an independent count, in category order', () => {
      const set = loadFortunes(['science', 'wisdom']);
      const ref = python<number[]>(`
import json, re
counts = []
for c in ['science', 'wisdom']:
    text = open('${dataDir('fortunes')}/' + c, encoding='utf-8').read()
    counts.append(sum(1 for q in re.split(r'^%[ \\t]*$', text, flags=re.M) if q.strip()))
print(json.dumps(counts))`);
      const per = [0, 0];
      for (const q of set.quotes) per[q.category]!++;
      expect(per).toEqual(ref);
      expect(set.categories).toEqual(['science', 'wisdom']);
      expect(set.quotes[0]!.text.length).toBeGreaterThan(0);
      expect(set.quotes.some((q) => q.text.includes('\b'))).toBe(false);
      expect(() => loadFortunes(['science', 'nope'])).toThrow(
        /unknown fortune category "nope"; installed: .*science/,
      );
      expect(() => loadFortunes(['science', 'science'])).toThrow(/listed twice/);
    });

    it('splits per category with a fixed seed and builds byte streams ending each quotation with EOS', () => {
      const set = loadFortunes(['computers', 'science']);
      const a = fortuneSplit(set);
      const b = fortuneSplit(set);
      expect(a.train.length + a.val.length).toBe(set.quotes.length);
      expect(a.val.map((q) => q.text)).toEqual(b.val.map((q) => q.text));
      for (const k of [0, 1]) {
        const n = set.quotes.filter((q) => q.category === k).length;
        expect(a.val.filter((q) => q.category === k).length).toBe(Math.round(n * 0.1));
      }
      const { val } = textStreams(a);
      expect(val.filter((x) => x === EOS_BYTE).length).toBe(a.val.length);
      expect(path.isAbsolute(dataDir('fortunes'))).toBe(true);
    });
  },
);
