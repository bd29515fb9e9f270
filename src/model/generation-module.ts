/**
 * The generation module GM (spec §2.3): each available modality keeps its own projection
 * P_m = Linear_m(X^m); with one modality available both missing ones are copies of its
 * projection; with two, the missing one is the mean of theirs; with three nothing is generated.
 * A missing modality's raw features are never read (its entry in `x` may be anything).
 */
import { np, type Arr } from "../engine.js";
import { MODALITIES, type Modality, type PerModality } from "../data/types.js";
import { linear } from "./layers.js";
import type { Linear } from "./params.js";

export function generationModule(
  proj: PerModality<Linear>,
  x: Partial<PerModality<Arr>>,
  available: readonly Modality[],
): PerModality<Arr> {
  if (available.length === 0) throw new Error("generation module: no modality available");
  const out: Partial<PerModality<Arr>> = {};
  for (const m of available) out[m] = linear(proj[m], x[m]!.ref);
  const missing = MODALITIES.filter((m) => !available.includes(m));
  for (const m of missing) {
    if (available.length === 1) out[m] = out[available[0]]!.ref; // copy of the single projection
    else out[m] = out[available[0]]!.ref.add(out[available[1]]!.ref).div(2); // mean of the two
  }
  return out as PerModality<Arr>;
}

/**
 * The generation module per utterance (the missing-rate protocol, data/missing.ts): with
 * M_k ∈ {0, 1} the availability of modality k at a position (mask [B, S, 3], a/t/v order),
 *   P_gen_m = M_m·P_m + (1 − M_m)·(Σ_k M_k P_k) / max(Σ_k M_k, 1).
 * At a position with one modality available both missing ones are copies of its projection; with
 * two, the missing one is their mean; with three nothing is generated — the rule above, per
 * utterance, and the same floating-point operations on the same values, so a batch whose every
 * position has one condition's pattern gives exactly `generationModule`'s output. (The max only
 * guards positions with no modality, which the masks never produce; padding counts as available.)
 * The caller zeroes a missing modality's raw features on the host (maskBatch), so they are never
 * read; the mask multiplies their projection (then the bias) by 0. Borrows x and mask.
 */
export function maskedGenerationModule(proj: PerModality<Linear>, x: PerModality<Arr>, mask: Arr): PerModality<Arr> {
  const [ma, mt, mv] = np.split(mask.ref, [1, 2], 2); // each [B, S, 1]
  const M: PerModality<Arr> = { a: ma, t: mt, v: mv };
  const P: PerModality<Arr> = { a: linear(proj.a, x.a.ref), t: linear(proj.t, x.t.ref), v: linear(proj.v, x.v.ref) };
  const sum = M.a.ref.mul(P.a.ref).add(M.t.ref.mul(P.t.ref)).add(M.v.ref.mul(P.v.ref));
  const count = np.maximum(M.a.ref.add(M.t.ref).add(M.v.ref), 1);
  const generated = sum.div(count);
  const out = {} as PerModality<Arr>;
  for (const m of MODALITIES) {
    const missing = M[m].ref.mul(-1).add(1);
    out[m] = M[m].mul(P[m]).add(missing.mul(generated.ref));
  }
  generated.dispose();
  return out;
}
