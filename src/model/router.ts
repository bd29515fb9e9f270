/**
 * Router and prediction head (spec §2.3): α = softmax(MLP([E^a; E^t; E^v])),
 * r = [f; α_a E^a; α_t E^t; α_v E^v], hidden = r + Dropout(ReLU(proj(r))), ŷ = head(hidden).
 */
import { np, nn, type Arr } from "../engine.js";
import type { PerModality } from "../data/types.js";
import { geluExact, softmax } from "../precise.js";
import { linear, type ForwardContext } from "./layers.js";
import type { SubtleParams } from "./params.js";

export interface RouterOutput {
  /** α: router weights over (a, t, v). [B, S, 3] */
  alpha: Arr;
  /** hidden = r + Dropout(ReLU(proj(r))). [B, S, 4D] */
  hidden: Arr;
  /** ŷ = head(hidden). [B, S, C] */
  prediction: Arr;
}

/** Consumes `fused` and `encoded`. */
export function routeAndPredict(
  p: SubtleParams,
  fused: Arr,
  encoded: PerModality<Arr>,
  ctx: ForwardContext,
): RouterOutput {
  const e = np.concatenate([encoded.a.ref, encoded.t.ref, encoded.v.ref], -1); // [B, S, 3D]
  // MLP = Linear(3D, 3D) → GELU → Dropout → Linear(3D, 3) → Dropout, then softmax
  const logits = ctx.dropout(linear(p.router.fc2, ctx.dropout(geluExact(linear(p.router.fc1, e)))));
  const alpha = softmax(logits, -1);
  const [aA, aT, aV] = np.split(alpha.ref, 3, -1);
  const r = np.concatenate([fused, aA.mul(encoded.a), aT.mul(encoded.t), aV.mul(encoded.v)], -1);
  const hidden = r.ref.add(ctx.dropout(nn.relu(linear(p.proj, r))));
  const prediction = linear(p.head, hidden.ref);
  return { alpha, hidden, prediction };
}
