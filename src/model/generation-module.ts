/**
 * The generation module GM (spec §2.3): each available modality keeps its own projection
 * P_m = Linear_m(X^m); with one modality available both missing ones are copies of its
 * projection; with two, the missing one is the mean of theirs; with three nothing is generated.
 * A missing modality's raw features are never read (its entry in `x` may be anything).
 */
import type { Arr } from "../engine.js";
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
