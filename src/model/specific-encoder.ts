/**
 * The modality-specific encoder E_s^m (spec §2.3): 4 layers, each X ← X + MHDW(X) then
 * X ← X + Attn_m(X). MHDW's reconstruction target is H^m, taken once at the entry, detached.
 */
import { lax, type Arr } from "../engine.js";
import { attentionLayer, zeroInvalid, type ForwardContext } from "./layers.js";
import { mhdw } from "./mhdw.js";
import type { AttentionLayer, Linear, ReconstructionMlp } from "./params.js";

export interface SpecificEncoderOutput {
  /** E^m, invalid positions zero. [B, S, D] */
  encoded: Arr;
  /** R̄: reconstructions averaged over the layers, zero at invalid positions. [B, S, h, D] */
  reconstructions: Arr;
  /** w̄: MHDW head weights averaged over the layers, zero at invalid positions. [B, S, h] */
  headWeights: Arr;
}

/** Consumes h (H^m); borrows prompt (Ẑ^m) and umask. */
export function specificEncoder(
  layers: AttentionLayer[],
  projM: Linear,
  rec: ReconstructionMlp[],
  h: Arr,
  prompt: Arr,
  umask: Arr,
  ctx: ForwardContext,
): SpecificEncoderOutput {
  const target = lax.stopGradient(h.ref); // spec §2.3: target H^m, detached
  let x = h;
  let recSum: Arr | null = null;
  let wSum: Arr | null = null;
  for (const layer of layers) {
    const o = mhdw(projM, rec, x.ref, prompt, target, ctx);
    x = x.add(o.output); // X ← X + MHDW(X)
    x = x.ref.add(attentionLayer(layer, x, umask.ref, ctx)); // X ← X + Attn_m(X)
    recSum = recSum ? recSum.add(o.reconstructions) : o.reconstructions;
    wSum = wSum ? wSum.add(o.headWeights) : o.headWeights;
  }
  target.dispose();
  const L = layers.length;
  return {
    encoded: zeroInvalid(x, umask.ref),
    reconstructions: zeroInvalid(recSum!.div(L), umask.ref),
    headWeights: zeroInvalid(wSum!.div(L), umask.ref),
  };
}
