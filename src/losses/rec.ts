/**
 * REC (spec §2.3): the mean over modalities and heads of the masked mean squared error between
 * the L2-normalised R̄_k^m and the L2-normalised H^m, divided by D:
 * Σ_valid Σ_d (n(R̄_k)_d − n(H)_d)² / (N_valid · D).
 */
import { np, type Arr } from "../engine.js";
import { MODALITIES, type PerModality } from "../data/types.js";
import { l2normalize } from "../model/layers.js";

/** Consumes reconstructions [B, S, h, D] and targets [B, S, D]; borrows umask [B, S]. */
export function recLoss(reconstructions: PerModality<Arr>, targets: PerModality<Arr>, umask: Arr): Arr {
  const [B, S, h, D] = reconstructions.a.shape;
  const n = np.maximum(umask.ref.sum(), 1).mul(D);
  const mask = umask.ref.reshape([B, S, 1, 1]);
  let total: Arr | null = null;
  for (const m of MODALITIES) {
    const diff = l2normalize(reconstructions[m]).sub(l2normalize(targets[m]).reshape([B, S, 1, D]));
    const perHead = np.square(diff).mul(mask.ref).sum([0, 1, 3]).div(n.ref); // [h]
    const term = perHead.mean();
    total = total ? total.add(term) : term;
  }
  mask.dispose();
  n.dispose();
  void h;
  return total!.div(MODALITIES.length);
}
