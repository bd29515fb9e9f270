/**
 * Multi-head dynamic weighting, MHDW (spec §2.3; the paper's figure 1). Heads whose slice of
 * the projection, together with the salient prompt, reconstructs the encoder's input well get
 * larger weights.
 */
import { np, lax, type Arr } from "../engine.js";
import { geluExact, softmax } from "../precise.js";
import { l2normalize, linear, type ForwardContext } from "./layers.js";
import type { Linear, ReconstructionMlp } from "./params.js";

export interface MhdwOutput {
  /** O = concat_k(w_k · P_k). [B, S, D] */
  output: Arr;
  /** R_k stacked over heads. [B, S, h, D] */
  reconstructions: Arr;
  /** w, softmax over heads. [B, S, h] */
  headWeights: Arr;
}

/**
 * One MHDW call. `x` is consumed; `prompt` (Ẑ^m) and `target` (H^m, already detached) are
 * borrowed. The MLPs in `rec` are shared by the modalities and the layers.
 */
export function mhdw(
  projM: Linear,
  rec: ReconstructionMlp[],
  x: Arr, // [B, S, D]
  prompt: Arr, // [B, S, D]
  target: Arr, // [B, S, D]
  ctx: ForwardContext,
): MhdwOutput {
  const h = rec.length;
  // spec §2.3 MHDW step 1: P = Linear_m(X), split into h heads of width D/h
  const p = linear(projM, x);
  const pHeads = np.split(p, h, -1); // h × [B, S, dh]
  const droppedPrompt = ctx.dropout(prompt.ref);
  const recs: Arr[] = [];
  const scores: Arr[] = [];
  const targetN = l2normalize(target.ref);
  for (let k = 0; k < h; k++) {
    // step 2: U_k = [P_k ; Dropout(Ẑ^m)], detached; R_k = MLP_k(U_k)
    const u = lax.stopGradient(np.concatenate([pHeads[k].ref, droppedPrompt.ref], -1));
    const r = linear(rec[k].fc2, geluExact(linear(rec[k].fc1, u))); // [B, S, D]
    // step 3: s_k = 5 · cos(R_k, H^m)
    scores.push(l2normalize(r.ref).mul(targetN.ref).sum(-1, { keepdims: true }).mul(5));
    recs.push(r);
  }
  droppedPrompt.dispose();
  targetN.dispose();
  // step 3: w = softmax over heads (temperature 0.2 ⇔ the factor 5); w is not detached
  const w = softmax(np.concatenate(scores, -1), -1); // [B, S, h]
  // step 4: O = concat_k(w_k · P_k)
  const wk = np.split(w.ref, h, -1);
  const output = np.concatenate(pHeads.map((pk, k) => pk.mul(wk[k])), -1);
  return { output, reconstructions: np.stack(recs, 2), headWeights: w };
}
