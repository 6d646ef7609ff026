/**
 * Trainable-parameter tables for whole models (`qpeft params`): Quantum-PEFT with two-design factors in the
 * mixed-radix and the direct-sum form at several depths, the Lie variant and LoRA, per adapted matrix and
 * for the whole model, from the closed forms of `param-counts.ts` and `factor.ts`.
 */
import { describe, InputError } from '../errors.ts';
import { type Align, formatTable } from '../util/table.ts';
import { factorParamCount } from './factor.ts';
import { MODEL_SHAPES, type ModelShape } from './model-shapes.ts';
import { lieParamCount, loraParamCount } from './param-counts.ts';

/** One column of the table. */
export interface ParamColumn {
  readonly key: string;
  readonly title: string;
  /** Trainable parameters of one d_in × d_out adapter. */
  count(dIn: number, dOut: number): number;
}

/** A table row: one adapted matrix (per block), or the whole model. */
export interface ParamRow {
  readonly label: string;
  readonly dIn: number | null;
  readonly dOut: number | null;
  readonly counts: readonly number[];
}

/** The table for a model. */
export interface ParamTable {
  readonly model: ModelShape;
  readonly rank: number;
  readonly columns: readonly { key: string; title: string }[];
  readonly rows: readonly ParamRow[];
}

/** The model ids `paramTable` accepts. */
export const MODEL_IDS: readonly string[] = Object.keys(MODEL_SHAPES);

/** Look a model up (`InputError` listing the known ids). */
export function getModelShape(id: string): ModelShape {
  if (!Object.hasOwn(MODEL_SHAPES, id)) {
    throw new InputError(`unknown model ${describe(id)}; expected one of ${MODEL_IDS.join(', ')}`);
  }
  return MODEL_SHAPES[id]!;
}

/** The default columns: Quantum-PEFT mixed radix and direct sum at each depth, Lie at rank K, LoRA r = 1, 8. */
export function paramColumns(rank: number, layers: readonly number[] = [1, 2, 4]): ParamColumn[] {
  const q = (form: 'mixed-radix' | 'direct-sum', L: number) => (dIn: number, dOut: number) =>
    factorParamCount(dIn, 'simplified-two-design', L, form) +
    factorParamCount(dOut, 'simplified-two-design', L, form) +
    rank;
  return [
    ...layers.map((L) => ({
      key: `qpeft-mr-L${L}`,
      title: `Q-PEFT mixed radix L=${L}`,
      count: q('mixed-radix', L),
    })),
    ...layers.map((L) => ({
      key: `qpeft-ds-L${L}`,
      title: `Q-PEFT direct sum L=${L}`,
      count: q('direct-sum', L),
    })),
    { key: 'lie', title: `Q-PEFT Lie K=${rank}`, count: (i, o) => lieParamCount(i, o, rank) },
    { key: 'lora-1', title: 'LoRA r=1', count: (i, o) => loraParamCount(i, o, 1) },
    { key: 'lora-8', title: 'LoRA r=8', count: (i, o) => loraParamCount(i, o, 8) },
  ];
}

/**
 * The parameter table of a model: one row per adapted matrix of a block, then the whole model (blocks × the
 * sum). `rank` is Quantum-PEFT's K (λ and the Lie variant's columns); `layers` the two-design depths.
 */
export function paramTable(
  id: string,
  options: { rank?: number; layers?: readonly number[] } = {},
): ParamTable {
  const model = getModelShape(id);
  const rank = options.rank ?? 1;
  if (!Number.isInteger(rank) || rank < 1)
    throw new InputError(`rank must be a positive integer, got ${describe(rank)}`);
  const layers = options.layers ?? [1, 2, 4];
  for (const L of layers) {
    if (!Number.isInteger(L) || L < 0)
      throw new InputError(`layers must be non-negative integers, got ${describe(L)}`);
  }
  const cols = paramColumns(rank, layers);
  const rows: ParamRow[] = model.targets.map((tg) => ({
    label: `${tg.name} (${tg.dIn}×${tg.dOut})`,
    dIn: tg.dIn,
    dOut: tg.dOut,
    counts: cols.map((c) => c.count(tg.dIn, tg.dOut)),
  }));
  const total = cols.map((_, j) => model.blocks * rows.reduce((s, r) => s + r.counts[j]!, 0));
  rows.push({ label: `whole model (${model.blocks} blocks)`, dIn: null, dOut: null, counts: total });
  return { model, rank, columns: cols.map(({ key, title }) => ({ key, title })), rows };
}

const human = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n);

/** The table as GitHub markdown, with the paper's reported counts (if any) under it. */
export function paramTableMarkdown(table: ParamTable): string {
  const head = ['matrix', ...table.columns.map((c) => c.title)];
  // counts print as 37.0k / 1.23M, which the renderer's auto-alignment would not take for numbers
  const align: Align[] = head.map((_, j) => (j === 0 ? 'left' : 'right'));
  const lines = [
    `**${table.model.title}**, K = ${table.rank}`,
    '',
    formatTable([head, ...table.rows.map((r) => [r.label, ...r.counts.map(human)])], 'markdown', { align }),
  ];
  const paper = table.model.paper;
  lines.push(
    '',
    paper
      ? `Paper (${paper.setting}): ${Object.entries(paper.counts)
          .map(([k, v]) => `${k} ${human(v)}`)
          .join(', ')}.`
      : 'Paper: no count reported for this model.',
  );
  return lines.join('\n');
}

/** The table as aligned plain text. */
export function paramTableText(table: ParamTable): string {
  const head = ['matrix', ...table.columns.map((c) => c.title)];
  const body = table.rows.map((r) => [r.label, ...r.counts.map(String)]);
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j]!.length)));
  const fmt = (cells: string[]) =>
    cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
  const paper = table.model.paper;
  return [
    `${table.model.title}; K = ${table.rank}`,
    fmt(head),
    ...body.map(fmt),
    paper
      ? `paper (${paper.setting}): ${Object.entries(paper.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`
      : 'paper: no count reported for this model',
  ].join('\n');
}
