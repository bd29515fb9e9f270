/**
 * The salient path (spec §2.1–§2.2): the general encoder E_g shared by the three modalities,
 * the cross-modal fusion, and the stage-1 forward. Stage 2 reuses `generalEncoder` and
 * `crossModalFusion` on the generation module's output (spec §2.3, frozen).
 */
import { np, type Arr } from "../engine.js";
import { MODALITIES, type PerModality } from "../data/types.js";
import { attentionStack, linear, zeroInvalid, type ForwardContext } from "./layers.js";
import type { AttentionLayer, DssrParams } from "./params.js";

/**
 * E_g (spec §2.1): the same 4 layers encode each modality's sequence separately, each with its
 * own mask; invalid positions are zeroed after the stack (spec §2.2 step 2). The three
 * sequences run as one batch of 3B — same weights, same result, fewer and larger matmuls.
 */
export function generalEncoder(
  layers: AttentionLayer[],
  h: PerModality<Arr>, // each [B, S, D]
  umask: Arr, // [B, S]
  ctx: ForwardContext,
): PerModality<Arr> {
  const B = umask.shape[0];
  const x = np.concatenate([h.a, h.t, h.v], 0); // [3B, S, D]
  const mask3 = np.concatenate([umask.ref, umask.ref, umask.ref], 0);
  const z = zeroInvalid(attentionStack(layers, x, mask3.ref, ctx), mask3);
  const [a, t, v] = np.split(z, [B, 2 * B], 0);
  umask.dispose();
  return { a, t, v };
}

export interface FusionOutput {
  /** Ẑ^m: the fused tokens split back per modality — stage 2's MHDW prompts. [B, S, D] */
  prompts: PerModality<Arr>;
  /** f = (Ẑ^a + Ẑ^t + Ẑ^v) / 3. [B, S, D] */
  fused: Arr;
}

/**
 * Cross-modal fusion (spec §2.1): [Z^a; Z^t; Z^v] along the sequence (3S tokens), 4 layers
 * with residuals masked over all 3S keys, invalid tokens zeroed, split back, averaged.
 */
export function crossModalFusion(
  layers: AttentionLayer[],
  z: PerModality<Arr>,
  umask: Arr,
  ctx: ForwardContext,
): FusionOutput {
  const S = umask.shape[1];
  const x = np.concatenate([z.a, z.t, z.v], 1); // [B, 3S, D]
  const mask3 = np.concatenate([umask.ref, umask.ref, umask], 1);
  const zhat = zeroInvalid(attentionStack(layers, x, mask3.ref, ctx), mask3);
  const [a, t, v] = np.split(zhat, [S, 2 * S], 1);
  const fused = a.ref.add(t.ref).add(v.ref).div(3);
  return { prompts: { a, t, v }, fused };
}

export interface SalientOutput {
  /** H^m = Dropout(Linear_m^sha(X^m)). [B, S, D] */
  projected: PerModality<Arr>;
  /** Z^m = E_g(H^m), invalid positions zero. [B, S, D] */
  encoded: PerModality<Arr>;
  prompts: PerModality<Arr>;
  fused: Arr;
  /** ŷ = head_sha(f). [B, S, C] */
  prediction: Arr;
  /** ŷ^m = head_m(Z^m), from Z before fusion. [B, S, C] */
  unimodal: PerModality<Arr>;
}

/** Stage 1 forward, all modalities present (spec §2.2). Consumes x and umask. */
export function salientForward(
  params: DssrParams,
  x: PerModality<Arr>, // [B, S, d_m]
  umask: Arr,
  ctx: ForwardContext,
): SalientOutput {
  const sp = params.salient;
  // spec §2.2 step 1: H^m = Dropout(Linear_m^sha(X^m))
  const projected = mapModalities((m) => ctx.dropout(linear(sp.proj[m], x[m])));
  // step 2: Z^m = E_g(H^m), invalid positions zeroed
  const encoded = generalEncoder(sp.generalEncoder, refs(projected), umask.ref, ctx);
  // step 3: fusion, ŷ = head_sha(f)
  const { prompts, fused } = crossModalFusion(sp.fusion, refs(encoded), umask, ctx);
  const prediction = linear(sp.headSha, fused.ref);
  // step 4: ŷ^m = head_m(Z^m)
  const unimodal = mapModalities((m) => linear(params.heads[m], encoded[m].ref));
  return { projected, encoded, prompts, fused, prediction, unimodal };
}

export function mapModalities<T>(f: (m: (typeof MODALITIES)[number]) => T): PerModality<T> {
  return { a: f("a"), t: f("t"), v: f("v") };
}

/** A new reference to each of the three arrays (the originals stay owned by the caller). */
export function refs(x: PerModality<Arr>): PerModality<Arr> {
  return { a: x.a.ref, t: x.t.ref, v: x.v.ref };
}
