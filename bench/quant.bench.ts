/**
 * Quantization benchmark (issue 7): quantize (uniform / adaptive), pack (safetensors bytes) and decode
 * (what the adapter loader does) N parameters, half angles and half reals, at 4 bits in groups of 128, for
 * N ∈ {10⁴, 10⁵, 10⁶}. Times are medians in ms from this one run; M values/s = N / time.
 */

import {
  decodeQuantized,
  dequantizeWeights,
  encodeQuantized,
  QUANT_METADATA_KEY,
} from '../src/io/quant/format.ts';
import { type ParamTensor, quantizeParams } from '../src/io/quant/quantize.ts';
import { encodeSafetensors } from '../src/io/safetensors.ts';
import { createRng } from '../src/util/random.ts';
import { timeMs } from './timing.ts';

export default async function run(): Promise<void> {
  const rows: string[] = [
    'N          uniform ms  adaptive ms  pack ms  decode ms  decode Mval/s  bytes (f32 → int4)',
  ];
  for (const n of [1e4, 1e5, 1e6]) {
    const rng = createRng(1);
    const half = n / 2;
    const t: ParamTensor[] = [
      {
        name: 'theta',
        kind: 'angle',
        shape: [half],
        values: Float32Array.from({ length: half }, () => 3 * rng.normal()),
      },
      {
        name: 'lambda',
        kind: 'real',
        shape: [half],
        values: Float32Array.from({ length: half }, () => rng.normal()),
      },
    ];
    const opts = { minRuns: 3, minMs: 100, warmup: 1 };
    const uniform = await timeMs(() => quantizeParams(t, { bits: 4 }), opts);
    const adaptive = await timeMs(() => quantizeParams(t, { bits: 4, adaptive: true }), opts);
    const q = quantizeParams(t, { bits: 4 });
    let enc = encodeQuantized(q);
    const pack = await timeMs(() => {
      enc = encodeQuantized(q);
    }, opts);
    const st = {
      tensors: Object.fromEntries(
        Object.entries(enc.tensors).map(([k, v]) => [
          k,
          { dtype: 'U8' as const, shape: v.shape, data: v.data },
        ]),
      ),
      metadata: enc.metadata,
    };
    const decode = await timeMs(() => dequantizeWeights(st), opts);
    decodeQuantized(st.tensors, st.metadata[QUANT_METADATA_KEY]!);
    const bytes = encodeSafetensors(enc.tensors, enc.metadata).length;
    rows.push(
      `${String(n).padEnd(9)}  ${uniform.toFixed(1).padStart(10)}  ${adaptive.toFixed(1).padStart(11)}  ${pack.toFixed(1).padStart(7)}  ${decode.toFixed(1).padStart(9)}  ${(n / decode / 1e3).toFixed(1).padStart(13)}  ${4 * n} → ${bytes}`,
    );
  }
  console.log(rows.join('\n'));
}
