/**
 * The two stage objectives (spec §2.2 step 5 and §2.3):
 *   L1 = task(ŷ) + Σ_m task(ŷ^m) + 0.5 · DCL(Z^a, Z^t, Z^v)
 *   L2 = task(ŷ) + Σ_m task(ŷ^m) + 200 · REC
 * Pure functions of (params, batch, …): the training step differentiates them, the parity
 * tests call them directly.
 */
import { lax, type Arr } from "../engine.js";
import { MODALITIES, type Modality, type PerModality, type Task } from "../data/types.js";
import { dclLoss, type DclArrays, type DclOutput } from "../losses/dcl.js";
import { recLoss } from "../losses/rec.js";
import { taskLoss } from "../losses/task.js";
import type { ForwardContext } from "../model/layers.js";
import type { DssrParams } from "../model/params.js";
import { salientForward, type SalientOutput } from "../model/salient-stage.js";
import { subtleForward, type SubtleOutput } from "../model/subtle-stage.js";

export const DCL_WEIGHT = 0.5; // spec §2.2 step 5
export const REC_WEIGHT = 200; // spec §2.3

/** Graph-side batch: raw features per modality [B, S, d_m], umask and labels [B, S]. */
export type BatchArrays = { x: PerModality<Arr>; umask: Arr; labels: Arr };

export interface LossTerms {
  total: Arr;
  task: Arr;
  unimodal: PerModality<Arr>;
  /** Unweighted DCL (stage 1) or REC (stage 2). */
  aux: Arr;
}

function taskTerms(pred: Arr, uni: PerModality<Arr>, labels: Arr, umask: Arr, nClasses: number) {
  const task = taskLoss(pred, labels, umask, nClasses);
  const unimodal = {
    a: taskLoss(uni.a, labels, umask, nClasses),
    t: taskLoss(uni.t, labels, umask, nClasses),
    v: taskLoss(uni.v, labels, umask, nClasses),
  };
  const sum = task.ref.add(unimodal.a.ref).add(unimodal.t.ref).add(unimodal.v.ref);
  return { task, unimodal, sum };
}

/** Stage 1 (spec §2.2). Consumes batch and dcl inputs; borrows params. */
export function stage1Objective(
  params: DssrParams,
  batch: BatchArrays,
  dcl: DclArrays,
  task: Task,
  nClasses: number,
  ctx: ForwardContext,
): { terms: LossTerms; dcl: DclOutput; forward: SalientOutput } {
  const forward = salientForward(params, batch.x, batch.umask.ref, ctx);
  const t = taskTerms(forward.prediction.ref, refsOf(forward.unimodal), batch.labels, batch.umask, nClasses);
  const d = dclLoss(task, forward.encoded, forward.prediction, dcl);
  const total = t.sum.add(d.loss.ref.mul(DCL_WEIGHT));
  batch.labels.dispose();
  batch.umask.dispose();
  return { terms: { total, task: t.task, unimodal: t.unimodal, aux: d.loss.ref }, dcl: d, forward };
}

/**
 * Stage 2 (spec §2.3) under the available modalities. Consumes batch (and mask); borrows params.
 * With `mask` ([B, S, 3] availability per position; the missing-rate protocol) the generation
 * module works per utterance and `available` must be all three modalities (subtleForward).
 */
export function stage2Objective(
  params: DssrParams,
  batch: BatchArrays,
  available: readonly Modality[],
  nClasses: number,
  ctx: ForwardContext,
  mask?: Arr,
): { terms: LossTerms; forward: SubtleOutput } {
  const x: Partial<PerModality<Arr>> = {};
  for (const m of MODALITIES) {
    if (available.includes(m)) x[m] = batch.x[m];
    else batch.x[m].dispose(); // spec §2.3: a missing modality's raw features are never read
  }
  const forward = subtleForward(params, x, batch.umask.ref, available, ctx, mask);
  const t = taskTerms(forward.prediction.ref, refsOf(forward.unimodal), batch.labels, batch.umask, nClasses);
  // REC's target H^m is the detached encoder input, as in MHDW (spec §2.3).
  const targets = mapRefs(forward.specificInput, (a) => lax.stopGradient(a));
  const rec = recLoss(refsOf(forward.reconstructions), targets, batch.umask);
  const total = t.sum.add(rec.ref.mul(REC_WEIGHT));
  batch.labels.dispose();
  batch.umask.dispose();
  return { terms: { total, task: t.task, unimodal: t.unimodal, aux: rec }, forward };
}

function mapRefs(x: PerModality<Arr>, f: (a: Arr) => Arr): PerModality<Arr> {
  return { a: f(x.a.ref), t: f(x.t.ref), v: f(x.v.ref) };
}

function refsOf(x: PerModality<Arr>): PerModality<Arr> {
  return { a: x.a.ref, t: x.t.ref, v: x.v.ref };
}
