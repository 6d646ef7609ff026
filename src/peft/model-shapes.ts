/**
 * The adapted linear layers of published models, as data, for parameter-count tables (`qpeft params`).
 * Shapes are d_in × d_out per transformer block, from the models' public configurations; `paper` holds the
 * trainable-parameter counts the Quantum-PEFT paper reports for that model (Koike-Akino et al., ICLR 2025,
 * arXiv 2503.05431; the figures docs/method.md §8 quotes), with the setting they belong to.
 */

/** One adapted matrix of a transformer block. */
export interface TargetShape {
  readonly name: string;
  readonly dIn: number;
  readonly dOut: number;
}

/** A model: its blocks, the matrices adapted in each, and the counts the paper reports. */
export interface ModelShape {
  readonly id: string;
  readonly title: string;
  readonly blocks: number;
  readonly targets: readonly TargetShape[];
  /** What the paper reports for this model (method → trainable parameters), and for which setting. */
  readonly paper?: { readonly setting: string; readonly counts: Readonly<Record<string, number>> };
}

const t = (name: string, dIn: number, dOut: number): TargetShape => ({ name, dIn, dOut });
/** The d × d projections of a block (attention's query, key, value, output), one per name. */
const square = (d: number, ...names: string[]): TargetShape[] => names.map((n) => t(n, d, d));

/** Every model `qpeft params --model` knows, by id. */
export const MODEL_SHAPES: Readonly<Record<string, ModelShape>> = {
  'vit-b16': {
    id: 'vit-b16',
    title: 'ViT-B/16 (query and value of 12 blocks, 768 wide)',
    blocks: 12,
    targets: square(768, 'attn.query', 'attn.value'),
    paper: {
      setting: 'ViT, ImageNet-21k → CIFAR-10 (query/value)',
      counts: { 'LoRA K=1': 37_000, 'LoRA K=2': 74_000, 'LoRA K=4': 147_000, 'Quantum-PEFT': 7_000 },
    },
  },
  'deberta-v3-base': {
    id: 'deberta-v3-base',
    title: 'DeBERTaV3-base (all six projections of 12 blocks: q, k, v, attention output, FFN in/out)',
    blocks: 12,
    targets: [
      ...square(768, 'attention.query', 'attention.key', 'attention.value', 'attention.output'),
      t('intermediate', 768, 3072),
      t('output', 3072, 768),
    ],
    paper: {
      setting: 'GLUE (LoRA r = 2 on all six, as AdaLoRA’s set-up)',
      counts: { LoRA: 330_000, AdaLoRA: 320_000, 'Quantum-PEFT': 13_000 },
    },
  },
  gpt2: {
    id: 'gpt2',
    title: 'GPT-2 small (12 blocks, 768 wide: fused QKV c_attn, c_proj, MLP c_fc and c_proj)',
    blocks: 12,
    targets: [
      t('attn.c_attn', 768, 2304),
      t('attn.c_proj', 768, 768),
      t('mlp.c_fc', 768, 3072),
      t('mlp.c_proj', 3072, 768),
    ],
  },
  'gpt2-medium': {
    id: 'gpt2-medium',
    title: 'GPT-2 medium (query and value of 24 blocks, 1024 wide)',
    blocks: 24,
    targets: square(1024, 'attn.query', 'attn.value'),
    paper: {
      setting: 'GPT-2 medium, E2E (LoRA r = 4 on query/value)',
      counts: { LoRA: 390_000, 'Quantum-PEFT': 98_000 },
    },
  },
  'llama2-7b': {
    id: 'llama2-7b',
    title: 'LLaMA-2-7B (32 blocks: q, k, v, o 4096 wide; MLP gate/up 4096 → 11008, down 11008 → 4096)',
    blocks: 32,
    targets: [
      ...square(4096, 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj'),
      t('mlp.gate_proj', 4096, 11008),
      t('mlp.up_proj', 4096, 11008),
      t('mlp.down_proj', 11008, 4096),
    ],
  },
};
