/**
 * Stage 2, the subtle stage (spec §2.3), under one missing-modality condition: the generation
 * module fills the missing modalities; the frozen salient path (no gradient) gives the prompts
 * Ẑ^m and the fused feature f; the specific encoders, steered by MHDW, give E^m; the router
 * weighs them and the head predicts.
 */
import { lax, type Arr } from "../engine.js";
import type { Modality, PerModality } from "../data/types.js";
import { linear, type ForwardContext } from "./layers.js";
import { generationModule, maskedGenerationModule } from "./generation-module.js";
import type { DssrParams, Linear } from "./params.js";
import { routeAndPredict } from "./router.js";
import { crossModalFusion, generalEncoder, mapModalities, refs } from "./salient-stage.js";
import { specificEncoder } from "./specific-encoder.js";

export interface SubtleOutput {
  /** H_sal^m = Dropout(GM_sha(X)), the frozen path's input. [B, S, D] */
  salientInput: PerModality<Arr>;
  /** Ẑ^m, the prompts (frozen path). [B, S, D] */
  prompts: PerModality<Arr>;
  /** f, the fused salient feature (frozen path). [B, S, D] */
  fused: Arr;
  /** H^m = Dropout(GM_spe(X)). [B, S, D] */
  specificInput: PerModality<Arr>;
  /** E^m. [B, S, D] */
  encoded: PerModality<Arr>;
  /** R̄^m. [B, S, h, D] */
  reconstructions: PerModality<Arr>;
  /** w̄^m, MHDW head weights averaged over layers. [B, S, h] */
  headWeights: PerModality<Arr>;
  /** α. [B, S, 3] */
  alpha: Arr;
  hidden: Arr;
  /** ŷ. [B, S, C] */
  prediction: Arr;
  /** ŷ^m = head_m(E^m). [B, S, C] */
  unimodal: PerModality<Arr>;
}

/**
 * Stage 2 forward. `x` holds the raw features; only the available modalities' entries are read.
 * Consumes the available x entries and umask.
 *
 * With `mask` ([B, S, 3], 1 available / 0 missing per position and modality; consumed), the
 * generation module works per utterance (maskedGenerationModule; the missing-rate protocol):
 * `available` must then be all three modalities and `x` hold all three, the missing positions'
 * features zeroed by the caller. Without it, the condition's code path is unchanged.
 */
export function subtleForward(
  params: DssrParams,
  x: Partial<PerModality<Arr>>,
  umask: Arr,
  available: readonly Modality[],
  ctx: ForwardContext,
  mask?: Arr,
): SubtleOutput {
  if (mask !== undefined && available.length !== 3) throw new Error("subtleForward: a per-utterance mask needs all three modalities' inputs");
  const gm = (proj: PerModality<Linear>) =>
    mask === undefined ? generationModule(proj, x, available) : maskedGenerationModule(proj, x as PerModality<Arr>, mask);
  const sp = params.salient;
  // Frozen salient path (spec §2.3): H_sal = Dropout(GM_sha(X)); Z = E_g(H_sal); fusion → Ẑ, f.
  // stopGradient makes "no gradient" explicit; the frozen parameters are also outside the
  // differentiated tree, so the optimizer never sees them.
  const gmSha = gm(sp.proj);
  const salientInput = mapModalities((m) => ctx.dropout(gmSha[m]));
  const z = generalEncoder(sp.generalEncoder, refs(salientInput), umask.ref, ctx);
  const fusion = crossModalFusion(sp.fusion, z, umask.ref, ctx);
  const prompts = mapModalities((m) => lax.stopGradient(fusion.prompts[m]));
  const fused = lax.stopGradient(fusion.fused);

  // Specific path: H^m = Dropout(GM_spe(X)); E_s^m with MHDW.
  const gmSpe = gm(params.subtle.generation);
  const specificInput = mapModalities((m) => ctx.dropout(gmSpe[m]));
  for (const m of available) x[m]!.dispose();
  mask?.dispose();
  const enc = mapModalities((m) =>
    specificEncoder(
      params.subtle.specificEncoders[m],
      params.subtle.mhdwProj[m],
      params.subtle.mhdwRec,
      specificInput[m].ref,
      prompts[m],
      umask,
      ctx,
    ),
  );
  umask.dispose();
  const encoded = mapModalities((m) => enc[m].encoded);
  const { alpha, hidden, prediction } = routeAndPredict(params.subtle, fused.ref, refs(encoded), ctx);
  const unimodal = mapModalities((m) => linear(params.heads[m], encoded[m].ref));
  return {
    salientInput,
    prompts,
    fused,
    specificInput,
    encoded,
    reconstructions: mapModalities((m) => enc[m].reconstructions),
    headWeights: mapModalities((m) => enc[m].headWeights),
    alpha,
    hidden,
    prediction,
    unimodal,
  };
}
