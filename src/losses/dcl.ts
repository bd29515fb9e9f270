/**
 * The dynamic contrastive loss, DCL (spec §2.4). Each modality's salient representation Z^m is
 * pulled toward an exponentially averaged centre of its class; the centres are the top-confidence
 * half of each class in the batch, averaged, and carry no gradient.
 *
 * Split in two so the training step stays one jitted function with static shapes:
 * - host side (plain JS): the class mapping, the top-k counts and the EMA momentum, which depend
 *   only on labels and the batch counter;
 * - graph side (`dclLoss`): ranking by confidence, batch centres, the EMA update and the loss.
 */
import { lax, np, type Arr } from "../engine.js";
import { MODALITIES, type PerModality, type Task } from "../data/types.js";
import { logSoftmax } from "../precise.js";
import { l2normalize } from "../model/layers.js";

/** DCL state of one training run (one condition, one fold): updated on training batches only. */
export interface DclState {
  batchCount: number;
  /** Per modality [C', D] row-major, or null before the first batch. */
  centres: PerModality<Float64Array> | null;
}

export const DCL_TEMPERATURE = 0.1;
export const DCL_TOPK_FRACTION = 0.5;

export function initialDclState(): DclState {
  return { batchCount: 0, centres: null };
}

/** Number of DCL classes C': 2 sign classes for regression, the label classes otherwise. */
export function dclClassCount(task: Task, nClasses: number): number {
  return task === "regression" ? 2 : nClasses;
}

/**
 * spec §2.4 classes. Classification: the label. Regression (the released behaviour, kept on
 * purpose): cast toward zero, drop 0 (|y| < 1), then positive → 1 and negative → 0.
 * Returns −1 for an unused utterance (dropped, or padding).
 */
export function dclClass(task: Task, label: number, valid: boolean): number {
  if (!valid) return -1;
  if (task === "classification") return label;
  const c = Math.trunc(label);
  return c === 0 ? -1 : c > 0 ? 1 : 0;
}

/** spec §2.4 EMA momentum for the k-th training batch (k ≥ 2): 0.5 → 0.99 over 100 batches. */
export function dclMomentum(k: number): number {
  return k <= 100 ? 0.5 + (0.49 * k) / 100 : 0.99;
}

/** The host-side inputs of one batch's DCL: one-hot classes, top-k counts and momentum. */
export interface DclBatchInputs {
  /** [N, C'] one-hot DCL class per flattened utterance; all-zero rows are unused. */
  classMask: Float64Array;
  /** [C'] max(1, ⌊0.5·n_j⌋). */
  topk: Float64Array;
  /** μ for this batch; 0 for the first batch (the batch centres are copied). */
  momentum: number;
  /** [C', D] per modality: the previous centres, zeros before the first batch. */
  centres: PerModality<Float64Array>;
}

export function dclBatchInputs(
  task: Task,
  nClasses: number,
  labels: ArrayLike<number>,
  umask: ArrayLike<number>,
  state: DclState,
  hidden: number,
): DclBatchInputs {
  const C = dclClassCount(task, nClasses);
  const N = labels.length;
  const classMask = new Float64Array(N * C);
  const counts = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    const c = dclClass(task, labels[i], umask[i] > 0);
    if (c >= 0) {
      classMask[i * C + c] = 1;
      counts[c] += 1;
    }
  }
  const topk = counts.map((n) => Math.max(1, Math.floor(DCL_TOPK_FRACTION * n)));
  const k = state.batchCount + 1;
  const zeros = () => new Float64Array(C * hidden);
  return {
    classMask,
    topk,
    momentum: state.centres === null ? 0 : dclMomentum(k),
    centres: state.centres ?? { a: zeros(), t: zeros(), v: zeros() },
  };
}

/** The graph-side arrays of DclBatchInputs. */
export interface DclArrays {
  classMask: Arr; // [N, C']
  topk: Arr; // [C']
  momentum: Arr; // []
  centres: PerModality<Arr>; // [C', D]
}

export interface DclOutput {
  loss: Arr;
  lossPerModality: PerModality<Arr>;
  batchCentres: PerModality<Arr>;
  /** The centres after this batch's EMA update (the loss uses these). */
  centres: PerModality<Arr>;
}

/**
 * spec §2.4 in the graph. `encoded` Z^m [B, S, D] and `prediction` ŷ [B, S, C] are borrowed;
 * `inputs` is consumed.
 */
export function dclLoss(task: Task, encoded: PerModality<Arr>, prediction: Arr, inputs: DclArrays): DclOutput {
  const [B, S, D] = encoded.a.shape;
  const N = B * S;
  const { classMask, topk, momentum } = inputs;
  const member = classMask.ref.greater(0);
  // Confidence per class: regression class 1 by largest ŷ, class 0 by smallest; classification ŷ[:, j].
  const yhat = lax.stopGradient(prediction.ref.reshape([N, prediction.shape[2]]));
  const confidence = task === "regression" ? np.concatenate([yhat.ref.neg(), yhat], 1) : yhat;
  // Rank each class's members by confidence (others pushed last), keep rank < max(1, ⌊0.5·n⌋).
  const ranked = np.where(member, confidence, -1e30).neg();
  const rank = np.argsort(np.argsort(ranked, 0), 0).astype(classMask.dtype);
  const weights = classMask.ref.mul(rank.less(topk.reshape([1, -1])).astype(classMask.dtype)); // [N, C']
  const denom = np.maximum(weights.ref.sum(0), 1).reshape([-1, 1]); // [C', 1]
  const used = classMask.ref.sum(-1); // [N]
  const nUsed = np.maximum(used.ref.sum(), 1);

  const batchCentres: Partial<PerModality<Arr>> = {};
  const centres: Partial<PerModality<Arr>> = {};
  const perModality: Partial<PerModality<Arr>> = {};
  for (const m of MODALITIES) {
    const z = encoded[m].ref.reshape([N, D]);
    // Batch centre: mean of the top-k members (one member: itself; none: zero).
    const cb = np.matmul(weights.ref.transpose(), lax.stopGradient(z.ref)).div(denom.ref); // [C', D]
    // EMA: c ← μ·c + (1 − μ)·c_batch (μ = 0 copies on the first batch).
    const c = inputs.centres[m].mul(momentum.ref).add(cb.ref.mul(np.subtract(1, momentum.ref)));
    // ℓ_ij = cos(z_i, c_j) / 0.1; term_i = −β_i · log softmax_j(ℓ_i)[y_i], β_i = (1 + cos(z_i, c_yi)) / 2 detached.
    const cos = np.matmul(l2normalize(z), l2normalize(c.ref).transpose()); // [N, C']
    const logp = logSoftmax(cos.ref.div(DCL_TEMPERATURE), -1);
    const picked = logp.mul(classMask.ref).sum(-1);
    const beta = lax.stopGradient(cos.mul(classMask.ref).sum(-1).add(1).div(2));
    perModality[m] = beta.mul(picked).mul(used.ref).sum().neg().div(nUsed.ref);
    batchCentres[m] = cb;
    centres[m] = c;
  }
  for (const a of [classMask, weights, denom, used, nUsed, momentum]) a.dispose();
  const pm = perModality as PerModality<Arr>;
  const loss = pm.a.ref.add(pm.t.ref).add(pm.v.ref).div(3);
  return {
    loss,
    lossPerModality: pm,
    batchCentres: batchCentres as PerModality<Arr>,
    centres: centres as PerModality<Arr>,
  };
}
