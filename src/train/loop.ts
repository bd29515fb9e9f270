/**
 * The training protocol (spec §2.5): one model per (dataset, condition); epochs < stage_epoch
 * train stage 1 (salient, all modalities), the rest stage 2 (subtle, under the condition),
 * continuing from the last stage-1 weights; one Adam for the whole run; shuffled batches of
 * videos; evaluation on val and test after every epoch; the three selections at the end.
 */
import { random, tree, np, type Arr } from "../engine.js";
import { initEngine } from "../engine.js";
import { checkpointDir, readTrainingState, writeTrainingState, type LoadedTrainingState } from "../checkpoint/training-state.js";
import { availableModalities, type TrainConfig } from "../config/types.js";
import { EVAL_LAST_BATCH_MULTIPLE, lazyBatches, mulberry32, paddedLength, type BatchSequence } from "../data/batches.js";
import { holdOutValidation, loadDataset, normalizeDataset, type NormStats } from "../data/dataset.js";
import { type Batch, type Dataset, type PerModality } from "../data/types.js";
import {
  checkMissingRate, datasetMasks, effectiveMissingRate, maskBatch, missingFraction, type VideoMasks,
} from "../data/missing.js";
import { classificationMetrics, regressionMetrics } from "../eval/metrics.js";
import { selectEpochs } from "../eval/selection.js";
import type { EpochRecord, LossParts, Metrics, Selections } from "../eval/types.js";
import { dclBatchInputs, dclClassCount, initialDclState, type DclArrays } from "../losses/dcl.js";
import { initParams, type DssrParams, type ModelShape } from "../model/params.js";
import { ADAM_DEFAULTS, adamInit, adamScalars, type AdamConfig, type Moments } from "./adam.js";
import type { BatchArrays } from "./objective.js";
import {
  ALL_MODALITIES,
  compileMaskedSteps,
  compileSteps,
  joinStage2,
  splitStage1,
  splitStage2,
  type GroupScalars,
  type LossRecord,
  type Stage1Trainable,
  type Stage2Trainable,
  type StepConfig,
} from "./step.js";

export interface TrainHooks {
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord, config: TrainConfig) => void;
  /** Called once the dataset is loaded and the model built. */
  onStart?: (info: { dataset: Dataset; shape: ModelShape; batchShape: [number, number] }) => void;
  /** Called when a stage continues from a checkpoint (`dir`), after `epochsDone` epochs of the run. */
  onResume?: (info: { stage: 1 | 2; condition: TrainConfig["condition"] | null; epochsDone: number; dir: string }) => void;
}

/** Where a run keeps its per-epoch checkpoints (checkpoint/training-state.ts), and whether to continue from them. */
export interface CheckpointOptions {
  /** Root folder: `<dir>/stage1/` and `<dir>/stage2-<condition>/`. */
  dir: string;
  /**
   * Continue from the checkpoints found there (none found: start from the beginning). "stage1":
   * continue from the stage-1 checkpoint only and start every stage 2 afresh (a `dssr table --jobs`
   * condition, whose stage 1 another process has just trained).
   */
  resume?: boolean | "stage1";
  /** The IEMOCAP fold the data was split for (recorded and checked), or null. */
  fold?: number | null;
}

export interface TrainOptions {
  checkpoints?: CheckpointOptions;
}

export interface TrainResult {
  config: TrainConfig;
  dataset: Dataset;
  normalization: NormStats;
  shape: ModelShape;
  params: DssrParams;
  history: EpochRecord[];
  selections: Selections;
  compileSeconds: number;
  totalSeconds: number;
  /** The missing-rate protocol's run (trainMissingRates); absent for a condition's run. */
  missing?: MissingRateInfo;
}

/** How a missing-rate run's stage 2 masked the data (data/missing.ts). */
export interface MissingRateInfo {
  /** The rate asked for. */
  rate: number;
  /** The expected fraction of missing (utterance, modality) cells: min(rate, 2/3). */
  effectiveRate: number;
  /** The masks' seed (the run's seed). */
  seed: number;
  /** The measured fraction of missing cells per split. NaN for an empty split. */
  fraction: { train: number; val: number; test: number };
}

/** Host typed arrays → engine arrays for one batch. */
function toArrays(b: Batch, dims: PerModality<number>): BatchArrays {
  const f32 = (a: Float32Array, shape: number[]) => np.array(a, { dtype: np.float32 }).reshape(shape);
  return {
    x: {
      a: f32(b.features.a, [b.B, b.S, dims.a]),
      t: f32(b.features.t, [b.B, b.S, dims.t]),
      v: f32(b.features.v, [b.B, b.S, dims.v]),
    },
    umask: f32(b.umask, [b.B, b.S]),
    labels: f32(b.labels, [b.B, b.S]),
  };
}

function scalar(v: number): Arr {
  return np.array(new Float32Array([v]), { dtype: np.float32 }).reshape([]);
}

/** Marks a DclState whose centres live on the device, not in host memory. */
const ON_DEVICE = { a: new Float64Array(0), t: new Float64Array(0), v: new Float64Array(0) };

/** Adam step counters, one per parameter group (torch counts per parameter). */
class GroupSteps {
  private counts = new Map<string, number>();
  constructor(private adam: AdamConfig) {}
  clone(): GroupSteps {
    const c = new GroupSteps(this.adam);
    c.counts = new Map(this.counts);
    return c;
  }
  /** The counts, for a checkpoint. */
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
  static from(adam: AdamConfig, counts: Record<string, number>): GroupSteps {
    const c = new GroupSteps(adam);
    c.counts = new Map(Object.entries(counts));
    return c;
  }
  next(group: string): GroupScalars {
    const t = (this.counts.get(group) ?? 0) + 1;
    this.counts.set(group, t);
    const { stepSize, bc2Sqrt } = adamScalars(this.adam, t);
    return { stepSize: scalar(stepSize), bc2Sqrt: scalar(bc2Sqrt) };
  }
}

function lossParts(l: LossRecord, stage: 1 | 2): LossParts {
  const v = (a: Arr) => a.item();
  const aux = v(l.aux);
  return {
    total: v(l.total),
    task: v(l.task),
    taskA: v(l.unimodal.a),
    taskT: v(l.unimodal.t),
    taskV: v(l.unimodal.v),
    dcl: stage === 1 ? aux : null,
    rec: stage === 2 ? aux : null,
  };
}

/** Valid-utterance predictions and labels of a batch, appended to the accumulators. */
function collect(pred: Float32Array, b: Batch, nOut: number, preds: number[], labels: number[]) {
  for (let i = 0; i < b.B * b.S; i++) {
    if (!(b.umask[i] > 0)) continue;
    for (let c = 0; c < nOut; c++) preds.push(pred[i * nOut + c]);
    labels.push(b.labels[i]);
  }
}

/**
 * Load and normalise the dataset a config names, its label-file split (IEMOCAP: with the
 * held-out validation dialogues of `config.valFraction`; a fold's split is run.ts's loadRunData).
 */
export function prepareData(config: TrainConfig): { dataset: Dataset; normalization: NormStats } {
  const raw = loadDataset({
    name: config.dataset,
    dataDir: config.dataDir,
    labelFile: config.labelFile,
    features: config.features,
  });
  const { dataset, stats } = normalizeDataset(holdOutValidation(raw, config.valFraction, config.seed, null), config.normalize);
  return { dataset, normalization: stats };
}

/** Train and evaluate DSSR under one condition (spec §2.5). */
export async function train(
  config: TrainConfig,
  hooks: TrainHooks = {},
  data?: { dataset: Dataset; normalization: NormStats },
  options: TrainOptions = {},
): Promise<TrainResult> {
  const [result] = await trainConditions(config, [config.condition], hooks, data, options);
  return result;
}

/**
 * Seeded streams per epoch, so that an epoch's batch order and dropout keys depend only on
 * (seed, epoch, batch): stage 2 of any condition can start from a stage-1 snapshot and see exactly
 * what a separate run would have seen.
 */
function epochRng(seed: number, epoch: number) {
  return mulberry32((Math.imul(seed, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
}

/** The stage-1 state every condition shares (stage 1 trains on all modalities, spec §2.2). */
interface Stage1State {
  trainable: Stage1Trainable;
  moments: Moments<Stage1Trainable>;
  history: EpochRecord[];
  steps: GroupSteps;
  compileSeconds: number;
}

/**
 * Train DSSR under several conditions. Stage 1 does not depend on the condition, and its data
 * order and dropout keys come from per-epoch seeded streams, so it is trained once and every
 * condition continues from the same stage-1 weights, Adam moments and step counts — the same
 * numbers separate runs would produce, for one stage-1 cost instead of one per condition.
 */
export async function trainConditions(
  config: TrainConfig,
  conditions: readonly TrainConfig["condition"][],
  hooks: TrainHooks & {
    onCondition?: (condition: TrainConfig["condition"], index: number) => void;
    /** Called as each condition finishes, before the next starts (write its results here). */
    onResult?: (result: TrainResult) => void;
  } = {},
  data?: { dataset: Dataset; normalization: NormStats },
  options: TrainOptions = {},
): Promise<TrainResult[]> {
  return trainStages(config, conditions.map((condition) => ({ condition, missingRate: null })), hooks, data, options);
}

/**
 * The random missing-rate protocol (GCNet; data/missing.ts): stage 1 once on all modalities, as
 * for the conditions, then stage 2 once per rate, continuing from it, trained and evaluated with
 * per-utterance masks at that rate (train, val and test utterances each masked by the same
 * (seed, utterance id) scheme; seed = the config's) and the per-utterance generation module. The
 * masked steps compile once for every rate. Each result's config has condition atv (the model
 * reads all three inputs) and `missing` set. No checkpoints.
 */
export async function trainMissingRates(
  config: TrainConfig,
  rates: readonly number[],
  hooks: TrainHooks & {
    onMissingRate?: (rate: number, index: number) => void;
    /** Called as each rate finishes, before the next starts (write its results here). */
    onResult?: (result: TrainResult) => void;
  } = {},
  data?: { dataset: Dataset; normalization: NormStats },
): Promise<TrainResult[]> {
  for (const r of rates) checkMissingRate(r);
  return trainStages({ ...config, condition: "atv" }, rates.map((missingRate) => ({ condition: "atv" as const, missingRate })), hooks, data, {});
}

/** What one stage 2 continuing from the shared stage 1 runs under: a condition, or (condition atv) a missing rate. */
type Stage2Variant = { condition: TrainConfig["condition"]; missingRate: number | null };

async function trainStages(
  config: TrainConfig,
  variants: readonly Stage2Variant[],
  hooks: TrainHooks & {
    onCondition?: (condition: TrainConfig["condition"], index: number) => void;
    onMissingRate?: (rate: number, index: number) => void;
    onResult?: (result: TrainResult) => void;
  },
  data: { dataset: Dataset; normalization: NormStats } | undefined,
  options: TrainOptions,
): Promise<TrainResult[]> {
  const ck = options.checkpoints ?? null;
  if (ck !== null && variants.some((v) => v.missingRate !== null)) throw new Error("the missing-rate protocol keeps no checkpoints");
  await initEngine();
  const t0 = performance.now();
  const { dataset, normalization } = data ?? prepareData(config);
  const shape: ModelShape = {
    dims: dataset.dims,
    hidden: config.hidden,
    heads: config.heads,
    nClasses: dataset.nClasses,
    depth: 4,
  };
  const adam: AdamConfig = { ...ADAM_DEFAULTS, lr: config.lr, weightDecay: config.weightDecay };
  const cfg: StepConfig = { task: dataset.task, nClasses: dataset.nClasses, heads: config.heads, dropout: config.dropout, adam };
  const S = paddedLength(dataset);
  const B = config.batchSize;
  // Built batch by batch as each pass reaches them, never a whole split at once (MOSEI's size).
  // A short last batch is padded to a multiple of 4 rows, not to B (MOSI's 9 validation videos: 12
  // rows, not 32); each video's prediction does not depend on the other rows.
  const evalOpts = { batchSize: B, padTo: S, lastBatchMultiple: EVAL_LAST_BATCH_MULTIPLE };
  const evalBatches = {
    val: lazyBatches(dataset, dataset.splits.val, evalOpts),
    test: lazyBatches(dataset, dataset.splits.test, evalOpts),
  };
  hooks.onStart?.({ dataset, shape, batchShape: [B, S] });
  const C = dclClassCount(dataset.task, dataset.nClasses);
  const trainBatches = (epoch: number) =>
    lazyBatches(dataset, dataset.splits.train, { batchSize: B, padTo: S, rng: epochRng(config.seed, epoch) });
  const stepKey = (epoch: number, b: number) => random.key(Math.floor(epochRng(config.seed ^ 0x5eed, epoch * 4099 + b)() * 2 ** 31));
  /** With `masks` (the missing-rate protocol), each batch's missing cells are zeroed and its mask passed on. */
  const evaluate = (batches: BatchSequence, predict: (x: PerModality<Arr>, umask: Arr, mask: Arr | null) => Arr, masks: VideoMasks | null): Metrics | null => {
    if (batches.length === 0) return null;
    const preds: number[] = [];
    const labels: number[] = [];
    for (const b of batches) {
      const mb = masks === null ? null : maskBatch(b, dataset.dims, masks);
      const arrs = toArrays(mb === null ? b : mb.batch, dataset.dims);
      arrs.labels.dispose();
      const mask = mb === null ? null : maskArray(mb.mask, b);
      collect(predict(arrs.x, arrs.umask, mask).dataSync() as Float32Array, b, dataset.nClasses, preds, labels);
    }
    return dataset.task === "regression" ? regressionMetrics(preds, labels) : classificationMetrics(preds, labels, dataset.nClasses);
  };
  const finishEpoch = (
    epoch: number, stage: 1 | 2, sums: LossParts, weight: number, te: number,
    predict: (x: PerModality<Arr>, u: Arr, mask: Arr | null) => Arr, masks: VideoMasks | null = null,
  ): EpochRecord => {
    const trainLoss = Object.fromEntries(
      Object.entries(sums).map(([k, v]) => [k, v === null ? null : v / Math.max(weight, 1)]),
    ) as unknown as LossParts;
    const val = evaluate(evalBatches.val, predict, masks);
    const test = evaluate(evalBatches.test, predict, masks)!;
    return { epoch, stage, trainLoss, val, test, seconds: (performance.now() - te) / 1000 };
  };
  const emptySums = (stage: 1 | 2): LossParts => ({ total: 0, task: 0, taskA: 0, taskT: 0, taskV: 0, dcl: stage === 1 ? 0 : null, rec: stage === 2 ? 0 : null });
  const accumulate = (sums: LossParts, parts: LossParts, n: number) => {
    for (const k of Object.keys(sums) as (keyof LossParts)[]) if (sums[k] !== null) (sums[k] as number) += (parts[k] as number) * n;
  };

  // ---- Stage 1, once (spec §2.2) ----
  const stage1Steps = compileSteps(cfg, ["a", "t", "v"]);
  const params0 = initParams(shape, config.seed, np.float32);
  const s1: Stage1State = {
    trainable: splitStage1(params0),
    moments: adamInit(splitStage1(params0)),
    history: [],
    steps: new GroupSteps(adam),
    compileSeconds: 0,
  };
  let centres: PerModality<Arr> | null = null;
  let dclState = initialDclState();
  const stage1Epochs = Math.min(config.stageEpoch, config.epochs);
  let firstEpoch = 0;
  const prior1 = ck?.resume === true || ck?.resume === "stage1" ? readTrainingState(checkpointDir(ck.dir, 1, null), { config, fold: ck.fold ?? null, shape, stage: 1, condition: null }) : null;
  if (prior1 !== null) {
    // Continue stage 1 where the checkpoint left it (or skip it: a stage-switch checkpoint).
    tree.dispose([s1.moments, params0] as never);
    params0.salient = prior1.params.salient;
    params0.heads = prior1.params.heads;
    params0.subtle = prior1.params.subtle;
    s1.trainable = splitStage1(params0);
    s1.moments = prior1.moments as Moments<Stage1Trainable>;
    s1.history = prior1.history;
    s1.steps = GroupSteps.from(adam, prior1.adamSteps);
    s1.compileSeconds = prior1.compileSeconds;
    centres = prior1.centres;
    dclState = { batchCount: prior1.dclBatchCount, centres: centres === null ? null : ON_DEVICE };
    firstEpoch = prior1.epochsDone;
    hooks.onResume?.({ stage: 1, condition: null, epochsDone: firstEpoch, dir: checkpointDir(ck!.dir, 1, null) });
  }
  const save1 = (epochsDone: number) => {
    if (ck === null) return;
    writeTrainingState(checkpointDir(ck.dir, 1, null), {
      stage: 1, condition: null, epochsDone, config, fold: ck.fold ?? null, shape,
      params: { salient: s1.trainable.salient, heads: s1.trainable.heads, subtle: params0.subtle },
      moments: s1.moments, centres, dclBatchCount: dclState.batchCount, adamSteps: s1.steps.toJSON(),
      compileSeconds: s1.compileSeconds, history: s1.history,
    });
  };
  for (let epoch = firstEpoch; epoch < stage1Epochs; epoch++) {
    const te = performance.now();
    const sums = emptySums(1);
    let weight = 0;
    trainBatches(epoch).forEach((b, bi) => {
      const tStep = performance.now();
      const inp = dclBatchInputs(dataset.task, dataset.nClasses, b.labels, b.umask, dclState, config.hidden);
      const f32 = (a: Float64Array, sh: number[]) => np.array(Float32Array.from(a), { dtype: np.float32 }).reshape(sh);
      const dcl: DclArrays = {
        classMask: f32(inp.classMask, [B * S, C]),
        topk: f32(inp.topk, [C]),
        momentum: scalar(inp.momentum),
        centres: centres ?? {
          a: f32(inp.centres.a, [C, config.hidden]),
          t: f32(inp.centres.t, [C, config.hidden]),
          v: f32(inp.centres.v, [C, config.hidden]),
        },
      };
      const sc = { salient: s1.steps.next("salient"), heads: s1.steps.next("heads") };
      const out = stage1Steps.train1(s1.trainable, s1.moments, toArrays(b, dataset.dims), dcl, sc, stepKey(epoch, bi));
      s1.trainable = out.trainable;
      s1.moments = out.moments;
      centres = out.centres;
      // spec §2.4: the centres are updated on training batches only; the count drives μ.
      // The centres themselves stay on the device (`centres`); the host state only needs the
      // batch count and whether centres exist yet, which decide μ (spec §2.4).
      dclState = { batchCount: dclState.batchCount + 1, centres: ON_DEVICE };
      const parts = lossParts(out.losses, 1);
      if (epoch === 0 && bi === 0) s1.compileSeconds += (performance.now() - tStep) / 1000;
      const n = b.lengths.reduce((a, c) => a + c, 0);
      weight += n;
      accumulate(sums, parts, n);
    });
    const record = finishEpoch(epoch, 1, sums, weight, te, (x, u) => stage1Steps.eval1(tree.ref(s1.trainable), x, u));
    s1.history.push(record);
    save1(epoch + 1); // every epoch; the last one is the stage switch
    hooks.onEpoch?.(record, config);
  }
  if (centres) tree.dispose(centres as never);
  stage1Steps.dispose();

  // ---- Stage 2, per condition, from the shared stage-1 state (spec §2.3) ----
  const results: TrainResult[] = [];
  // The missing-rate protocol's steps: compiled once, for every rate (the mask is an input).
  const maskedSteps = variants.some((v) => v.missingRate !== null) ? compileMaskedSteps(cfg) : null;
  for (const [ci, { condition, missingRate }] of variants.entries()) {
    if (missingRate === null) hooks.onCondition?.(condition, ci);
    else hooks.onMissingRate?.(missingRate, ci);
    const tc = performance.now();
    const runConfig = { ...config, condition };
    const available = missingRate === null ? availableModalities(condition) : ALL_MODALITIES;
    const masks = missingRate === null ? null : datasetMasks(dataset, config.seed, missingRate);
    const steps = missingRate === null ? compileSteps(cfg, available) : null;
    const dir2 = ck === null ? null : checkpointDir(ck.dir, 2, condition);
    const prior2: LoadedTrainingState | null =
      ck?.resume === true && config.epochs > stage1Epochs ? readTrainingState(dir2!, { config: runConfig, fold: ck.fold ?? null, shape, stage: 2, condition }) : null;
    let groupSteps = s1.steps.clone();
    let params: DssrParams;
    let history = [...s1.history];
    let compileSeconds = s1.compileSeconds;
    if (prior2 === null) {
      const stage1 = tree.ref(s1.trainable);
      params = { salient: stage1.salient, heads: stage1.heads, subtle: tree.ref(params0.subtle) };
    } else {
      params = prior2.params;
      groupSteps = GroupSteps.from(adam, prior2.adamSteps);
      history = prior2.history;
      compileSeconds = prior2.compileSeconds;
      hooks.onResume?.({ stage: 2, condition, epochsDone: prior2.epochsDone, dir: dir2! });
    }
    if (config.epochs > stage1Epochs) {
      let [t2, frozen] = splitStage2(params, available);
      let m2: Moments<Stage2Trainable>;
      if (prior2 === null) {
        // One optimizer for the run: the heads keep their stage-1 moments; the subtle modules start at zero.
        const fresh = adamInit({ core: t2.core, generation: t2.generation });
        m2 = {
          m: { heads: tree.ref(s1.moments.m.heads), core: fresh.m.core, generation: fresh.m.generation },
          v: { heads: tree.ref(s1.moments.v.heads), core: fresh.v.core, generation: fresh.v.generation },
        };
      } else {
        m2 = prior2.moments as Moments<Stage2Trainable>;
      }
      const save2 = (epochsDone: number) => {
        if (dir2 === null) return;
        writeTrainingState(dir2, {
          stage: 2, condition, epochsDone, config: runConfig, fold: ck!.fold ?? null, shape, params: joinStage2(t2, frozen),
          moments: m2, centres: null, dclBatchCount: 0, adamSteps: groupSteps.toJSON(), compileSeconds, history,
        });
      };
      const firstEpoch2 = prior2 === null ? stage1Epochs : prior2.epochsDone;
      for (let epoch = firstEpoch2; epoch < config.epochs; epoch++) {
        const te = performance.now();
        const sums = emptySums(2);
        let weight = 0;
        trainBatches(epoch).forEach((b, bi) => {
          const tStep = performance.now();
          const sc = {
            heads: groupSteps.next("heads"),
            core: groupSteps.next("subtle"),
            generation: Object.fromEntries(available.map((m) => [m, groupSteps.next(`generation.${m}`)])),
          };
          let out;
          if (masks === null) {
            out = steps!.train2(t2, m2, tree.ref(frozen), toArrays(b, dataset.dims), sc, stepKey(epoch, bi));
          } else {
            const mb = maskBatch(b, dataset.dims, masks); // missing cells zeroed here, on the host
            out = maskedSteps!.train2(t2, m2, tree.ref(frozen), toArrays(mb.batch, dataset.dims), sc, stepKey(epoch, bi), maskArray(mb.mask, b));
          }
          t2 = out.trainable;
          m2 = out.moments;
          const parts = lossParts(out.losses, 2);
          if (epoch === stage1Epochs && bi === 0) compileSeconds += (performance.now() - tStep) / 1000;
          const n = b.lengths.reduce((a, c) => a + c, 0);
          weight += n;
          accumulate(sums, parts, n);
        });
        const record = finishEpoch(epoch, 2, sums, weight, te, (x, u, mask) =>
          disposeExtras(mask === null ? steps!.eval2(tree.ref(t2), tree.ref(frozen), x, u) : maskedSteps!.eval2(tree.ref(t2), tree.ref(frozen), x, u, mask)),
        masks);
        history.push(record);
        save2(epoch + 1);
        hooks.onEpoch?.(record, runConfig);
      }
      tree.dispose(m2 as never);
      params = joinStage2(t2, frozen);
    }
    steps?.dispose();
    const result: TrainResult = {
      config: runConfig,
      dataset,
      normalization,
      shape,
      params,
      history,
      selections: selectEpochs(history),
      compileSeconds,
      totalSeconds: (performance.now() - (ci === 0 ? t0 : tc)) / 1000,
    };
    if (missingRate !== null) {
      const f = (ids: string[]) => (ids.length === 0 ? Number.NaN : missingFraction(masks!, ids));
      result.missing = {
        rate: missingRate, effectiveRate: effectiveMissingRate(missingRate), seed: config.seed,
        fraction: { train: f(dataset.splits.train), val: f(dataset.splits.val), test: f(dataset.splits.test) },
      };
    }
    results.push(result);
    hooks.onResult?.(result);
  }
  maskedSteps?.dispose();
  tree.dispose([s1.trainable, s1.moments, params0.subtle] as never);
  return results;
}

/** A batch's [B, S, 3] availability mask as an engine array. */
function maskArray(mask: Float32Array, b: Batch): Arr {
  return np.array(mask, { dtype: np.float32 }).reshape([b.B, b.S, 3]);
}

function disposeExtras(p: { prediction: Arr; unimodal: PerModality<Arr>; alpha: Arr; headWeights: PerModality<Arr> }): Arr {
  tree.dispose([p.unimodal, p.alpha, p.headWeights] as never);
  return p.prediction;
}

