/**
 * Adam with torch.optim.Adam's semantics (spec §2.5): L2 weight decay added to the gradient
 * (not AdamW), bias-corrected moments, eps outside the square root. The pinned engine ships no
 * optimizer (the optax companion is unpublished), so it is written here, once, as an
 * init/update pair over parameter trees in the optax style.
 *
 * Step counts live on the host, one per parameter group, because torch counts steps per
 * parameter: a group that was frozen or absent from a stage keeps its count (spec §2.3 — frozen
 * modules are outside the optimizer, so their moments never move).
 */
import { np, tree, type Arr } from "../engine.js";

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const ADAM_DEFAULTS: Omit<AdamConfig, "lr"> = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 };

export type Moments<T> = { m: T; v: T };

/** Zero first and second moments shaped like `params` (borrowed). */
export function adamInit<T>(params: T): Moments<T> {
  const zeros = () => tree.map((p: Arr) => np.zerosLike(p.ref), params as never) as T;
  return { m: zeros(), v: zeros() };
}

/**
 * Host-side scalars for the t-th step (t ≥ 1) of a group: torch's step_size = lr / (1 − β1^t)
 * and √(1 − β2^t). Computed in float64 on the host so the graph needs no pow/exp.
 */
export function adamScalars(cfg: AdamConfig, t: number): { stepSize: number; bc2Sqrt: number } {
  return { stepSize: cfg.lr / (1 - cfg.beta1 ** t), bc2Sqrt: Math.sqrt(1 - cfg.beta2 ** t) };
}

/**
 * One Adam update of a tree. Consumes params, grads and moments; `stepSize` and `bc2Sqrt`
 * (scalar arrays or numbers) come from adamScalars. Returns the new params and moments.
 *   g' = g + wd·p;  m ← β1·m + (1−β1)·g';  v ← β2·v + (1−β2)·g'²
 *   p ← p − step_size · m / (√v / √(1−β2^t) + eps)
 */
export function adamUpdate<T>(
  cfg: AdamConfig,
  params: T,
  grads: T,
  moments: Moments<T>,
  stepSize: Arr | number,
  bc2Sqrt: Arr | number,
): { params: T; moments: Moments<T> } {
  const [pLeaves, def] = tree.flatten(params as never) as [Arr[], unknown];
  const gLeaves = tree.leaves(grads as never) as Arr[];
  const mLeaves = tree.leaves(moments.m as never) as Arr[];
  const vLeaves = tree.leaves(moments.v as never) as Arr[];
  const ref = (s: Arr | number) => (typeof s === "number" ? s : s.ref);
  const newP: Arr[] = [];
  const newM: Arr[] = [];
  const newV: Arr[] = [];
  pLeaves.forEach((p, i) => {
    const g = cfg.weightDecay ? gLeaves[i].add(p.ref.mul(cfg.weightDecay)) : gLeaves[i];
    const m = mLeaves[i].mul(cfg.beta1).add(g.ref.mul(1 - cfg.beta1));
    const v = vLeaves[i].mul(cfg.beta2).add(np.square(g).mul(1 - cfg.beta2));
    const denom = np.sqrt(v.ref).div(ref(bc2Sqrt)).add(cfg.eps);
    newP.push(p.sub(m.ref.mul(ref(stepSize)).div(denom)));
    newM.push(m);
    newV.push(v);
  });
  if (typeof stepSize !== "number") stepSize.dispose();
  if (typeof bc2Sqrt !== "number") bc2Sqrt.dispose();
  const un = (leaves: Arr[]) => tree.unflatten(def as never, leaves) as T;
  return { params: un(newP), moments: { m: un(newM), v: un(newV) } };
}
