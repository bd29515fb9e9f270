/**
 * The training and evaluation steps: the codebase's only `valueAndGrad` and only optimizer
 * update. A factory builds one jitted function per (stage, condition); the batch shape is fixed
 * per dataset, so each compiles once (../shared/notes/engine.md).
 *
 * Freezing is structural (spec §2.3): stage 1 differentiates {salient, heads}; stage 2
 * differentiates {heads, subtle minus the missing modalities' GM_spe projections, which no
 * output reads}. Everything else enters as a constant, so the optimizer never sees it — no
 * weight decay, no momentum drift (spec §4).
 */
import { jit, lax, tree, valueAndGrad, type Arr } from "../engine.js";
import { MODALITIES, type Modality, type PerModality, type Task } from "../data/types.js";
import type { DclArrays } from "../losses/dcl.js";
import { ForwardContext } from "../model/layers.js";
import type { DssrParams, Linear, SalientParams, SubtleParams } from "../model/params.js";
import { salientForward } from "../model/salient-stage.js";
import { subtleForward } from "../model/subtle-stage.js";
import { adamUpdate, type AdamConfig, type Moments } from "./adam.js";
import { stage1Objective, stage2Objective, type BatchArrays, type LossTerms } from "./objective.js";

export interface StepConfig {
  task: Task;
  nClasses: number;
  heads: number;
  dropout: number;
  adam: AdamConfig;
}

/** The tree stage 1 trains (spec §2.2). */
export type Stage1Trainable = { salient: SalientParams; heads: PerModality<Linear> };
/** The tree stage 2 trains (spec §2.3). */
export type Stage2Trainable = {
  heads: PerModality<Linear>;
  core: Omit<SubtleParams, "generation">;
  generation: Partial<PerModality<Linear>>;
};
/** What stage 2 reads but does not train. */
export type Stage2Frozen = { salient: SalientParams; generation: Partial<PerModality<Linear>> };

/** Adam's host-side scalars for one parameter group (see adamScalars). */
export type GroupScalars = { stepSize: Arr; bc2Sqrt: Arr };

export function splitStage1(p: DssrParams): Stage1Trainable {
  return { salient: p.salient, heads: p.heads };
}

export function splitStage2(p: DssrParams, available: readonly Modality[]): [Stage2Trainable, Stage2Frozen] {
  const { generation, ...core } = p.subtle;
  const used: Partial<PerModality<Linear>> = {};
  const unused: Partial<PerModality<Linear>> = {};
  for (const m of MODALITIES) (available.includes(m) ? used : unused)[m] = generation[m];
  return [
    { heads: p.heads, core, generation: used },
    { salient: p.salient, generation: unused },
  ];
}

export function joinStage2(t: Stage2Trainable, f: Stage2Frozen): DssrParams {
  const generation = { ...f.generation, ...t.generation } as PerModality<Linear>;
  return { salient: f.salient, heads: t.heads, subtle: { ...t.core, generation } };
}

/** Loss parts as scalars: total, task, unimodal task losses, and the unweighted DCL/REC. */
export type LossRecord = { total: Arr; task: Arr; unimodal: PerModality<Arr>; aux: Arr };

function record(t: LossTerms): LossRecord {
  const s = lax.stopGradient;
  return {
    total: s(t.total),
    task: s(t.task),
    unimodal: { a: s(t.unimodal.a), t: s(t.unimodal.t), v: s(t.unimodal.v) },
    aux: s(t.aux),
  };
}

/** Dispose every array in a tree of forward outputs that the step does not return. */
function disposeTree(x: unknown): void {
  tree.dispose(x as never);
}

/**
 * Stage-1 loss and gradient w.r.t. {salient, heads}. Consumes every argument.
 * Returns the gradients, the loss parts and the DCL centres after this batch's EMA update.
 */
export function stage1Gradients(
  cfg: StepConfig,
  trainable: Stage1Trainable,
  batch: BatchArrays,
  dcl: DclArrays,
  key: Arr | null,
): { grads: Stage1Trainable; losses: LossRecord; centres: PerModality<Arr> } {
  // The dropout key is closed over, not an argument: valueAndGrad differentiates its arguments.
  const f = (t: Stage1Trainable, b: BatchArrays, d: DclArrays) => {
    const ctx = new ForwardContext(cfg.heads, cfg.dropout, key);
    const params = { salient: t.salient, heads: t.heads } as DssrParams;
    const out = stage1Objective(params, b, d, cfg.task, cfg.nClasses, ctx);
    ctx.dispose();
    disposeTree(t);
    disposeTree(out.forward);
    disposeTree([out.dcl.batchCentres, out.dcl.lossPerModality, out.dcl.loss]);
    const total = out.terms.total.ref;
    return [total, { losses: record(out.terms), centres: out.dcl.centres }] as [Arr, { losses: LossRecord; centres: PerModality<Arr> }];
  };
  const [[value, aux], grads] = valueAndGrad(f, { hasAux: true })(trainable, batch, dcl);
  value.dispose();
  return { grads: grads as Stage1Trainable, losses: aux.losses, centres: aux.centres };
}

/**
 * Stage-2 loss and gradient w.r.t. the stage-2 trainable tree. Consumes every argument.
 * `mask` ([B, S, 3]; the missing-rate protocol, with `available` all three) is closed over like
 * the dropout key: a constant, not differentiated.
 */
export function stage2Gradients(
  cfg: StepConfig,
  available: readonly Modality[],
  trainable: Stage2Trainable,
  frozen: Stage2Frozen,
  batch: BatchArrays,
  key: Arr | null,
  mask?: Arr,
): { grads: Stage2Trainable; losses: LossRecord } {
  const f = (t: Stage2Trainable, fr: Stage2Frozen, b: BatchArrays) => {
    const ctx = new ForwardContext(cfg.heads, cfg.dropout, key);
    const out = stage2Objective(joinStage2(t, fr), b, available, cfg.nClasses, ctx, mask);
    ctx.dispose();
    disposeTree(t);
    disposeTree(fr);
    disposeTree(out.forward);
    const total = out.terms.total.ref;
    return [total, record(out.terms)] as [Arr, LossRecord];
  };
  const [[value, losses], grads] = valueAndGrad(f, { hasAux: true })(trainable, frozen, batch);
  value.dispose();
  return { grads: grads as Stage2Trainable, losses };
}

/** Moments of one parameter subtree. */
function sub<T, K extends keyof T>(m: Moments<T>, k: K): Moments<T[K]> {
  return { m: m.m[k], v: m.v[k] };
}

export type Stage1Scalars = { salient: GroupScalars; heads: GroupScalars };
export type Stage2Scalars = { heads: GroupScalars; core: GroupScalars; generation: Partial<PerModality<GroupScalars>> };

/** One stage-1 training step: gradients, then Adam per group. Consumes every argument. */
export function stage1TrainStep(
  cfg: StepConfig,
  trainable: Stage1Trainable,
  moments: Moments<Stage1Trainable>,
  batch: BatchArrays,
  dcl: DclArrays,
  scalars: Stage1Scalars,
  key: Arr | null,
) {
  const { grads, losses, centres } = stage1Gradients(cfg, tree.ref(trainable), batch, dcl, key);
  const s = adamUpdate(cfg.adam, trainable.salient, grads.salient, sub(moments, "salient"), scalars.salient.stepSize, scalars.salient.bc2Sqrt);
  const h = adamUpdate(cfg.adam, trainable.heads, grads.heads, sub(moments, "heads"), scalars.heads.stepSize, scalars.heads.bc2Sqrt);
  return {
    trainable: { salient: s.params, heads: h.params },
    moments: { m: { salient: s.moments.m, heads: h.moments.m }, v: { salient: s.moments.v, heads: h.moments.v } },
    centres,
    losses,
  };
}

/** One stage-2 training step. Consumes every argument except `frozen`, which it borrows. */
export function stage2TrainStep(
  cfg: StepConfig,
  available: readonly Modality[],
  trainable: Stage2Trainable,
  moments: Moments<Stage2Trainable>,
  frozen: Stage2Frozen,
  batch: BatchArrays,
  scalars: Stage2Scalars,
  key: Arr | null,
  mask?: Arr,
) {
  const { grads, losses } = stage2Gradients(cfg, available, tree.ref(trainable), tree.ref(frozen), batch, key, mask);
  const h = adamUpdate(cfg.adam, trainable.heads, grads.heads, sub(moments, "heads"), scalars.heads.stepSize, scalars.heads.bc2Sqrt);
  const c = adamUpdate(cfg.adam, trainable.core, grads.core, sub(moments, "core"), scalars.core.stepSize, scalars.core.bc2Sqrt);
  const gen: Partial<PerModality<Linear>> = {};
  const genM: Partial<PerModality<Linear>> = {};
  const genV: Partial<PerModality<Linear>> = {};
  for (const m of available) {
    const sc = scalars.generation[m]!;
    const u = adamUpdate(cfg.adam, trainable.generation[m]!, grads.generation[m]!, { m: moments.m.generation[m]!, v: moments.v.generation[m]! }, sc.stepSize, sc.bc2Sqrt);
    gen[m] = u.params;
    genM[m] = u.moments.m;
    genV[m] = u.moments.v;
  }
  return {
    trainable: { heads: h.params, core: c.params, generation: gen },
    moments: {
      m: { heads: h.moments.m, core: c.moments.m, generation: genM },
      v: { heads: h.moments.v, core: c.moments.v, generation: genV },
    },
    losses,
  };
}

/** Evaluation forward (no dropout): the fused prediction ŷ of the stage. */
export function predictStage1(cfg: StepConfig, t: Stage1Trainable, x: PerModality<Arr>, umask: Arr): Arr {
  const ctx = new ForwardContext(cfg.heads, 0, null);
  const out = salientForward({ salient: t.salient, heads: t.heads } as DssrParams, x, umask, ctx);
  const pred = out.prediction;
  disposeTree([out.projected, out.encoded, out.prompts, out.fused, out.unimodal]);
  disposeTree(t);
  return pred;
}

export type Stage2Prediction = {
  prediction: Arr;
  unimodal: PerModality<Arr>;
  alpha: Arr;
  headWeights: PerModality<Arr>;
};

export function predictStage2(
  cfg: StepConfig,
  available: readonly Modality[],
  t: Stage2Trainable,
  fr: Stage2Frozen,
  x: PerModality<Arr>,
  umask: Arr,
  mask?: Arr,
): Stage2Prediction {
  const ctx = new ForwardContext(cfg.heads, 0, null);
  const xs: Partial<PerModality<Arr>> = {};
  for (const m of MODALITIES) if (available.includes(m)) xs[m] = x[m]; else x[m].dispose();
  const out = subtleForward(joinStage2(t, fr), xs, umask, available, ctx, mask);
  disposeTree([out.salientInput, out.prompts, out.fused, out.specificInput, out.encoded, out.reconstructions, out.hidden]);
  disposeTree(t);
  disposeTree(fr);
  return { prediction: out.prediction, unimodal: out.unimodal, alpha: out.alpha, headWeights: out.headWeights };
}

/**
 * jit-compiled versions, built once per (config, stage, condition) by the caller. `dispose()`
 * releases what the compiled programs hold once a stage or condition is done — without it, a
 * seven-condition run filled jax-js's 4 GiB wasm heap on real MOSI batches.
 */
export function compileSteps(cfg: StepConfig, available: readonly Modality[]) {
  const steps = {
    train1: jit((t: Stage1Trainable, m: Moments<Stage1Trainable>, b: BatchArrays, d: DclArrays, s: Stage1Scalars, k: Arr) =>
      stage1TrainStep(cfg, t, m, b, d, s, k),
    ),
    train2: jit((t: Stage2Trainable, m: Moments<Stage2Trainable>, fr: Stage2Frozen, b: BatchArrays, s: Stage2Scalars, k: Arr) => {
      const out = stage2TrainStep(cfg, available, t, m, tree.ref(fr), b, s, k);
      disposeTree(fr);
      return out;
    }),
    eval1: jit((t: Stage1Trainable, x: PerModality<Arr>, u: Arr) => predictStage1(cfg, t, x, u)),
    eval2: jit((t: Stage2Trainable, fr: Stage2Frozen, x: PerModality<Arr>, u: Arr) =>
      predictStage2(cfg, available, t, fr, x, u),
    ),
  };
  return {
    ...steps,
    dispose(): void {
      for (const f of Object.values(steps)) f.dispose();
    },
  };
}

/** All three modalities: the missing-rate protocol reads each one somewhere in a batch. */
export const ALL_MODALITIES: readonly Modality[] = MODALITIES;

/**
 * jit-compiled stage-2 steps for the missing-rate protocol: the generation module works per
 * utterance from a mask [B, S, 3] passed as an input array (one fixed shape, so one compiled
 * program serves every batch and every rate). Every GM_spe projection is trained (each modality is
 * available somewhere). `compileSteps`' programs are untouched by this. Split the parameters with
 * `splitStage2(p, ALL_MODALITIES)`.
 */
export function compileMaskedSteps(cfg: StepConfig) {
  const steps = {
    train2: jit((t: Stage2Trainable, m: Moments<Stage2Trainable>, fr: Stage2Frozen, b: BatchArrays, s: Stage2Scalars, k: Arr, mask: Arr) => {
      const out = stage2TrainStep(cfg, ALL_MODALITIES, t, m, tree.ref(fr), b, s, k, mask);
      disposeTree(fr);
      return out;
    }),
    eval2: jit((t: Stage2Trainable, fr: Stage2Frozen, x: PerModality<Arr>, u: Arr, mask: Arr) =>
      predictStage2(cfg, ALL_MODALITIES, t, fr, x, u, mask),
    ),
  };
  return {
    ...steps,
    dispose(): void {
      for (const f of Object.values(steps)) f.dispose();
    },
  };
}
