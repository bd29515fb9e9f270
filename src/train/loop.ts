/**
 * The training protocol (spec §2.5): one model per (dataset, condition); epochs < stage_epoch
 * train stage 1 (salient, all modalities), the rest stage 2 (subtle, under the condition),
 * continuing from the last stage-1 weights; one Adam for the whole run; shuffled batches of
 * videos; evaluation on val and test after every epoch; the three selections at the end.
 */
import { random, tree, np, type Arr } from "../engine.js";
import { initEngine } from "../engine.js";
import { availableModalities, type TrainConfig } from "../config/types.js";
import { makeBatches, mulberry32, paddedLength } from "../data/batches.js";
import { loadDataset, normalizeDataset, type NormStats } from "../data/dataset.js";
import { type Batch, type Dataset, type PerModality } from "../data/types.js";
import { classificationMetrics, regressionMetrics } from "../eval/metrics.js";
import { selectEpochs } from "../eval/selection.js";
import type { EpochRecord, LossParts, Metrics, Selections } from "../eval/types.js";
import { dclBatchInputs, dclClassCount, initialDclState, type DclArrays } from "../losses/dcl.js";
import { initParams, type DssrParams, type ModelShape } from "../model/params.js";
import { ADAM_DEFAULTS, adamInit, adamScalars, type AdamConfig, type Moments } from "./adam.js";
import type { BatchArrays } from "./objective.js";
import {
  compileSteps,
  joinStage2,
  splitStage1,
  splitStage2,
  type GroupScalars,
  type LossRecord,
  type Stage1Trainable,
  type Stage2Frozen,
  type Stage2Trainable,
  type StepConfig,
} from "./step.js";

export interface TrainHooks {
  /** Called after every epoch with its record. */
  onEpoch?: (record: EpochRecord, config: TrainConfig) => void;
  /** Called once the dataset is loaded and the model built. */
  onStart?: (info: { dataset: Dataset; shape: ModelShape; batchShape: [number, number] }) => void;
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

/** Adam step counters, one per parameter group (torch counts per parameter). */
class GroupSteps {
  private counts = new Map<string, number>();
  constructor(private adam: AdamConfig) {}
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

/** Load, normalise and batch the dataset a config names. */
export function prepareData(config: TrainConfig): { dataset: Dataset; normalization: NormStats } {
  const raw = loadDataset({
    name: config.dataset,
    dataDir: config.dataDir,
    labelFile: config.labelFile,
    features: config.features,
  });
  const { dataset, stats } = normalizeDataset(raw, config.normalize);
  return { dataset, normalization: stats };
}

/** Train and evaluate DSSR under one condition (spec §2.5). */
export async function train(
  config: TrainConfig,
  hooks: TrainHooks = {},
  data?: { dataset: Dataset; normalization: NormStats },
): Promise<TrainResult> {
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
  const cfg: StepConfig = {
    task: dataset.task,
    nClasses: dataset.nClasses,
    heads: config.heads,
    dropout: config.dropout,
    adam,
  };
  const available = availableModalities(config.condition);
  const S = paddedLength(dataset);
  const B = config.batchSize;
  const shuffleRng = mulberry32(config.seed);
  const keyRng = mulberry32(config.seed ^ 0x5eed);
  const evalBatches = {
    val: makeBatches(dataset, dataset.splits.val, { batchSize: B, padTo: S }),
    test: makeBatches(dataset, dataset.splits.test, { batchSize: B, padTo: S }),
  };
  hooks.onStart?.({ dataset, shape, batchShape: [B, S] });

  const steps = compileSteps(cfg, available);
  const groupSteps = new GroupSteps(adam);
  let params = initParams(shape, config.seed, np.float32);
  let t1: Stage1Trainable | null = splitStage1(params);
  let m1: Moments<Stage1Trainable> | null = adamInit(t1);
  let t2: Stage2Trainable | null = null;
  let m2: Moments<Stage2Trainable> | null = null;
  let frozen: Stage2Frozen | null = null;
  let dclState = initialDclState();
  let centres: PerModality<Arr> | null = null;
  const C = dclClassCount(dataset.task, dataset.nClasses);
  const history: EpochRecord[] = [];
  let compileSeconds = 0;

  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const stage: 1 | 2 = epoch < config.stageEpoch ? 1 : 2;
    const te = performance.now();
    if (stage === 2 && t2 === null) {
      // Stage switch: stage 2 continues from the last stage-1 weights; the heads keep their
      // Adam moments (one optimizer for the run), the subtle modules start theirs at zero.
      params = { ...params, salient: t1!.salient, heads: t1!.heads };
      [t2, frozen] = splitStage2(params, available);
      const fresh = adamInit({ core: t2.core, generation: t2.generation });
      m2 = {
        m: { heads: m1!.m.heads, core: fresh.m.core, generation: fresh.m.generation },
        v: { heads: m1!.v.heads, core: fresh.v.core, generation: fresh.v.generation },
      };
      tree.dispose([m1!.m.salient, m1!.v.salient] as never);
      t1 = null;
      m1 = null;
    }
    const trainBatches = makeBatches(dataset, dataset.splits.train, { batchSize: B, padTo: S, rng: shuffleRng });
    const sums: LossParts = { total: 0, task: 0, taskA: 0, taskT: 0, taskV: 0, dcl: stage === 1 ? 0 : null, rec: stage === 2 ? 0 : null };
    let weight = 0;
    for (const b of trainBatches) {
      const tStep = performance.now();
      const key = random.key(Math.floor(keyRng() * 2 ** 31));
      let parts: LossParts;
      if (stage === 1) {
        const inp = dclBatchInputs(dataset.task, dataset.nClasses, b.labels, b.umask, dclState, config.hidden);
        const f32 = (a: Float64Array, s: number[]) => np.array(Float32Array.from(a), { dtype: np.float32 }).reshape(s);
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
        const sc = { salient: groupSteps.next("salient"), heads: groupSteps.next("heads") };
        const out = steps.train1(t1!, m1!, toArrays(b, dataset.dims), dcl, sc, key);
        t1 = out.trainable;
        m1 = out.moments;
        centres = out.centres;
        dclState = { batchCount: dclState.batchCount + 1, centres: null };
        parts = lossParts(out.losses, 1);
      } else {
        const sc = {
          heads: groupSteps.next("heads"),
          core: groupSteps.next("subtle"),
          generation: Object.fromEntries(available.map((m) => [m, groupSteps.next(`generation.${m}`)])),
        };
        const out = steps.train2(t2!, m2!, tree.ref(frozen!), toArrays(b, dataset.dims), sc, key);
        t2 = out.trainable;
        m2 = out.moments;
        parts = lossParts(out.losses, 2);
      }
      if (epoch === 0 && b === trainBatches[0]) compileSeconds += (performance.now() - tStep) / 1000;
      if (epoch === config.stageEpoch && b === trainBatches[0]) compileSeconds += (performance.now() - tStep) / 1000;
      const n = b.lengths.reduce((a, c) => a + c, 0);
      weight += n;
      for (const k of Object.keys(sums) as (keyof LossParts)[]) {
        if (sums[k] !== null) (sums[k] as number) += (parts[k] as number) * n;
      }
    }
    const trainLoss = Object.fromEntries(
      Object.entries(sums).map(([k, v]) => [k, v === null ? null : v / Math.max(weight, 1)]),
    ) as unknown as LossParts;
    const evaluate = (batches: Batch[]): Metrics | null => {
      if (batches.length === 0) return null;
      const nOut = dataset.nClasses;
      const preds: number[] = [];
      const labels: number[] = [];
      for (const b of batches) {
        const arrs = toArrays(b, dataset.dims);
        arrs.labels.dispose();
        const pred =
          stage === 1
            ? steps.eval1(tree.ref(t1!), arrs.x, arrs.umask)
            : disposeExtras(steps.eval2(tree.ref(t2!), tree.ref(frozen!), arrs.x, arrs.umask));
        collect(pred.dataSync() as Float32Array, b, nOut, preds, labels);
      }
      return dataset.task === "regression"
        ? regressionMetrics(preds, labels)
        : classificationMetrics(preds, labels, dataset.nClasses);
    };
    const val = evaluate(evalBatches.val);
    const test = evaluate(evalBatches.test)!;
    const record: EpochRecord = { epoch, stage, trainLoss, val, test, seconds: (performance.now() - te) / 1000 };
    history.push(record);
    hooks.onEpoch?.(record, config);
  }
  if (t1) params = { ...params, salient: t1.salient, heads: t1.heads };
  if (t2) params = joinStage2(t2, frozen!);
  if (centres) tree.dispose(centres as never);
  return {
    config,
    dataset,
    normalization,
    shape,
    params,
    history,
    selections: selectEpochs(history),
    compileSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
  };
}

function disposeExtras(p: { prediction: Arr; unimodal: PerModality<Arr>; alpha: Arr; headWeights: PerModality<Arr> }): Arr {
  tree.dispose([p.unimodal, p.alpha, p.headWeights] as never);
  return p.prediction;
}

