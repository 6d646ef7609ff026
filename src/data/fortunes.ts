/**
 * Quotations from Debian's `fortunes` package: one plain-text file per category under
 * `/usr/share/games/fortunes/` (beside its `strfile` index `<category>.dat`), quotations separated by
 * lines holding a single `%`. Some files use backspace overstriking (`_\bA` for an underlined A); the
 * loader keeps the last character of each overstrike so the text is what a terminal shows.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DatasetNotFoundError, describe, InputError } from '../errors.ts';
import { DATA_SOURCES, dataDir } from './paths.ts';

/** One quotation and the index of its category in `FortuneSet.categories`. */
export interface Fortune {
  readonly text: string;
  readonly category: number;
}

/** Quotations from one or more categories. */
export interface FortuneSet {
  readonly categories: readonly string[];
  readonly quotes: readonly Fortune[];
}

/** Byte used as end-of-quotation in language-model streams and as padding in classification inputs. */
export const EOS_BYTE = 0;

/** The installed fortune categories (files with a `.dat` index), sorted; [] when none are installed. */
export function listFortuneCategories(dir?: string): string[] {
  const d = dataDir('fortunes', dir);
  let names: string[];
  try {
    names = readdirSync(d);
  } catch {
    return [];
  }
  const set = new Set(names);
  return names
    .filter((n) => !n.includes('.') && set.has(`${n}.dat`) && statSync(path.join(d, n)).isFile())
    .sort();
}

/** True when every named category is installed. */
export function hasFortunes(categories: readonly string[] = ['fortunes'], dir?: string): boolean {
  const have = new Set(listFortuneCategories(dir));
  return categories.every((c) => have.has(c));
}

const BACKSPACE = String.fromCharCode(8);

/** Remove backspace overstrikes: `x\bY` shows as `Y` (a backspace erases the character before it on its line). */
export function stripOverstrike(text: string): string {
  if (!text.includes(BACKSPACE)) return text;
  const out: string[] = [];
  for (const ch of text) {
    if (ch !== BACKSPACE) out.push(ch);
    else if (out.length > 0 && out[out.length - 1] !== '\n') out.pop();
  }
  return out.join('');
}

/** Split a fortune file's text into quotations (trailing blanks trimmed, empty ones dropped). */
export function parseFortuneFile(text: string): string[] {
  return stripOverstrike(text.replace(/\r\n/g, '\n'))
    .split(/^%[ \t]*$/m)
    .map((q) => q.replace(/^\n+/, '').replace(/\s+$/, ''))
    .filter((q) => q.length > 0);
}

/**
 * Load the quotations of `categories` (in the given order; `category` indexes that list). An unknown
 * category lists the installed ones; no installed data is a `DatasetNotFoundError` with the install command.
 */
export function loadFortunes(categories: readonly string[], opts: { dir?: string } = {}): FortuneSet {
  if (categories.length === 0) throw new InputError('loadFortunes: expected at least one category, got none');
  const dir = dataDir('fortunes', opts.dir);
  const have = listFortuneCategories(dir);
  if (have.length === 0) {
    throw new DatasetNotFoundError(`no fortune files under ${dir}`, DATA_SOURCES.fortunes.install);
  }
  const dup = categories.find((c, i) => categories.indexOf(c) !== i);
  if (dup !== undefined) throw new InputError(`fortune category ${describe(dup)} is listed twice`);
  const quotes: Fortune[] = [];
  categories.forEach((c, k) => {
    if (!have.includes(c)) {
      throw new InputError(`unknown fortune category ${describe(c)}; installed: ${have.join(', ')}`);
    }
    for (const text of parseFortuneFile(readFileSync(path.join(dir, c), 'utf8')))
      quotes.push({ text, category: k });
  });
  return { categories: [...categories], quotes };
}

/** Parse a category list `a,b,c` (or `all` for every installed category). */
export function parseCategories(spec: string, dir?: string): string[] {
  const s = spec.trim();
  if (s === 'all') return listFortuneCategories(dir);
  const list = s
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (list.length === 0)
    throw new InputError(`expected fortune categories like "science,wisdom" or "all", got ${describe(spec)}`);
  return list;
}
