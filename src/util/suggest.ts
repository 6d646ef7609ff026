/**
 * "Did you mean" for strict configuration objects: an unknown key is an error that names it, lists the
 * accepted keys and, for a near miss or a known spelling from another tool (Hugging Face PEFT's snake_case
 * `lora_alpha`, `target_modules`, …), says which accepted key was meant.
 */
import { describe, InputError } from '../errors.ts';

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of two adjacent letters (optimal
 * string alignment), case-insensitive: `rnak` is one edit from `rank`, as a typist would count it.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[s.length]![t.length]!;
}

/** snake_case and kebab-case → camelCase (`lora_alpha` → `loraAlpha`). */
function camel(key: string): string {
  return key.replace(/[_-]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

/**
 * The accepted key `key` most likely stands for, or null: an explicit alias first (`aliases`, e.g.
 * `{ lora_alpha: 'alpha' }`), then the camelCase spelling of a snake_case key, then the closest accepted key
 * within an edit distance of 2 (1 for keys of up to 4 characters).
 */
export function didYouMean(
  key: string,
  accepted: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): string | null {
  const alias = Object.hasOwn(aliases, key) ? aliases[key] : undefined;
  if (alias !== undefined && accepted.includes(alias)) return alias;
  const c = camel(key);
  const byCase = accepted.find((a) => a.toLowerCase() === c.toLowerCase());
  if (byCase) return byCase;
  let best: string | null = null;
  let bestD = key.length <= 4 ? 1 : 2;
  for (const a of accepted) {
    const d = Math.min(editDistance(key, a), editDistance(c, a));
    if (d <= bestD && (best === null || d < bestD)) {
      best = a;
      bestD = d;
    }
  }
  return best;
}

/**
 * Throw an `InputError` for the first key of `obj` not in `accepted`: it names the key (and `where` it was
 * found), suggests the meant key when one is likely, and lists every accepted key.
 */
export function assertKnownKeys(
  obj: object,
  accepted: readonly string[],
  where: string,
  aliases: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(obj)) {
    if (accepted.includes(key)) continue;
    const meant = didYouMean(key, accepted, aliases);
    throw new InputError(
      `${where}: unknown key ${describe(key)}${meant ? ` (did you mean ${describe(meant)}?)` : ''}; accepted keys: ${accepted.join(', ')}`,
    );
  }
}
