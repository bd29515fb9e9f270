/**
 * Using a saved model (checkpoint/model-file.ts): `predict` on utterances that have any non-empty
 * subset of the three modalities, and `evaluate` on a split of a dataset under one condition.
 *
 * predict: the model's saved normalisation is applied to the raw vectors; each video's utterances
 * are grouped by the set of modalities they have, and each group — the video's utterances with
 * that set, in order — runs through the stage-2 forward under that condition: the generation
 * module fills the missing modalities (spec §2.3), whose raw features are never read. An
 * utterance thus attends only to the utterances of its video with the same modalities; when every
 * utterance of a video has the same set (the usual case: a modality missing for a whole
 * recording) the group is the whole video, exactly as in training and evaluation.
 *
 * The subtle stage's generation projection GM_spe of a modality is trained only when the model's
 * condition includes it (spec §2.3). By default (`modalities: "restrict"`) an utterance is
 * therefore run under the modalities it has that the model was trained on — an `at` model
 * ignores a `v` vector it is given — and, only when it has none of those, under the ones it has,
 * with a warning. `modalities: "as-given"` always runs under exactly the modalities given.
 *
 * Per utterance the result holds the prediction (a score for regression; class probabilities and
 * the arg-max for classification), the router weights α over (a, t, v) and the MHDW head weights
 * w̄ per modality (spec §2.3: what a user inspects). A model whose run ended in stage 1 has no
 * trained subtle stage: it predicts with the stage-1 (salient) forward, from all three modalities
 * only, and has no α or w̄.
 */
import { np, tree, type Arr } from "./engine.js";
import { initEngine } from "./engine.js";
import { availableModalities, CONDITIONS, type Condition } from "./config/types.js";
import { EVAL_LAST_BATCH_MULTIPLE, makeBatches, paddedLength } from "./data/batches.js";
import { applyNormalization, type NormStats } from "./data/normalize.js";
import { MODALITIES, type Dataset, type Modality, type PerModality } from "./data/types.js";
import { ConfigError, FeatureDimensionError, NonFiniteFeatureError } from "./errors.js";
import { classificationMetrics, regressionMetrics } from "./eval/metrics.js";
import type { Metrics } from "./eval/types.js";
import type { LoadedModel } from "./checkpoint/model-file.js";
import { ADAM_DEFAULTS } from "./train/adam.js";
import { compileSteps, splitStage1, splitStage2, type StepConfig } from "./train/step.js";

/** The model parts predict and evaluate use (a LoadedModel has them all). */
export type PredictModel = Pick<LoadedModel, "params" | "shape" | "config" | "normalization" | "condition" | "task" | "stage">;

/** One utterance: raw (unnormalised) feature vectors of the modalities it has, at least one. */
export interface PredictUtterance {
  id: string;
  features: Partial<PerModality<Float32Array | readonly number[]>>;
}

/** A video (or dialogue): its utterances in order. */
export interface PredictVideo {
  id: string;
  utterances: PredictUtterance[];
}

export interface PredictOptions {
  /** Videos (groups) per forward batch; default the model's training batch size. */
  batchSize?: number;
  /** Utterances per padded row; default the longest group rounded up to a multiple of 8. */
  padTo?: number;
  /** See the module comment; default "restrict". */
  modalities?: "restrict" | "as-given";
  /** Named in error messages about the inputs (e.g. the input file). */
  source?: string;
}

export interface UtterancePrediction {
  id: string;
  /** The modalities the input had, as a condition name (e.g. "at"). */
  given: Condition;
  /** The condition the forward ran under. */
  condition: Condition;
  /** Regression: the sentiment score ŷ. */
  score?: number;
  /** Classification: softmax of the logits, one per class. */
  probabilities?: number[];
  /** Classification: the most probable class. */
  predictedClass?: number;
  /** Router weights α (spec §2.3); null for a stage-1 model. */
  alpha: PerModality<number> | null;
  /** MHDW head weights w̄ per modality, averaged over the encoder's layers; null for a stage-1 model. */
  headWeights: PerModality<number[]> | null;
}

export interface VideoPrediction {
  id: string;
  utterances: UtterancePrediction[];
}

export interface PredictResult {
  videos: VideoPrediction[];
  /** Things a user should know (an utterance run under modalities the model was not trained on). */
  warnings: string[];
}

/** The condition name of a modality set, in a, t, v order ("" when empty). */
export function conditionOf(mods: Iterable<Modality>): Condition {
  const set = new Set(mods);
  return MODALITIES.filter((m) => set.has(m)).join("") as Condition;
}

// ---------------------------------------------------------------------------------------------
// The forward on padded batches, shared by predict and evaluate

interface BatchOutput {
  /** [B·S·C] */
  prediction: Float32Array;
  /** [B·S·3], or null for a stage-1 model. */
  alpha: Float32Array | null;
  /** Per modality [B·S·h], or null for a stage-1 model. */
  headWeights: PerModality<Float32Array> | null;
}

type Compiled = ReturnType<typeof compileSteps>;
const compiledCache = new WeakMap<object, Map<string, Compiled>>();

/** Forward runner for one model and condition: jitted once per (parameters, condition, head layout), as training does. */
function runner(model: PredictModel, condition: Condition): (x: PerModality<Float32Array>, umask: Float32Array, B: number, S: number) => BatchOutput {
  const available = availableModalities(condition);
  if (model.stage === 1 && condition !== "atv") {
    throw new ConfigError(
      `this model's training ended in stage 1 (epochs ${model.config.epochs}, stage_epoch ${model.config.stageEpoch}): ` +
        `it has no trained subtle stage and predicts only from all three modalities, not under condition ${condition}`,
    );
  }
  const cfg: StepConfig = {
    task: model.task,
    nClasses: model.shape.nClasses,
    heads: model.shape.heads,
    dropout: 0,
    adam: { ...ADAM_DEFAULTS, lr: 0 },
  };
  let byCondition = compiledCache.get(model.params);
  if (!byCondition) compiledCache.set(model.params, (byCondition = new Map()));
  const key = `${condition}|${model.stage}|${cfg.task}|${cfg.nClasses}|${cfg.heads}`;
  let steps = byCondition.get(key);
  if (!steps) byCondition.set(key, (steps = compileSteps(cfg, available)));
  const compiled = steps;
  const dims = model.shape.dims;
  return (x, umask, B, S) => {
    const f32 = (a: Float32Array, shape: number[]) => np.array(a, { dtype: np.float32 }).reshape(shape);
    const xs = { a: f32(x.a, [B, S, dims.a]), t: f32(x.t, [B, S, dims.t]), v: f32(x.v, [B, S, dims.v]) };
    const u = f32(umask, [B, S]);
    if (model.stage === 1) {
      const pred = compiled.eval1(tree.ref(splitStage1(model.params)), xs, u);
      return { prediction: pred.dataSync() as Float32Array, alpha: null, headWeights: null };
    }
    const [t2, frozen] = splitStage2(model.params, available);
    const out = compiled.eval2(tree.ref(t2), tree.ref(frozen), xs, u);
    tree.dispose(out.unimodal as never);
    const read = (a: Arr) => a.dataSync() as Float32Array;
    return {
      prediction: read(out.prediction),
      alpha: read(out.alpha),
      headWeights: { a: read(out.headWeights.a), t: read(out.headWeights.t), v: read(out.headWeights.v) },
    };
  };
}

/** Softmax of one row of logits, in float64. */
function softmaxRow(logits: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(logits));
  const e = Array.from(logits, (l) => Math.exp(l - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

// ---------------------------------------------------------------------------------------------
// predict

/** Normalise one raw vector as `applyNormalization` does: float32 input, float64 arithmetic, float32 out. */
function normalizeVector(x: Float32Array, stats: NormStats, m: Modality): Float32Array {
  if (stats.method === "none") return x;
  const mean = stats.mean[m];
  const std = stats.std[m];
  return x.map((v, i) => (v - mean[i]) / std[i]);
}

interface Group {
  /** Position in the list of all groups. */
  index: number;
  /** Indices into the video's utterances, in order. */
  members: number[];
  condition: Condition;
  /** Per modality of the condition: the members' normalised vectors. */
  rows: Partial<PerModality<Float32Array[]>>;
}

/**
 * Predict every utterance of `videos` with a saved model; see the module comment. Input problems
 * (no modality, a vector of the wrong length, NaN) are DssrErrors naming the video and utterance.
 */
export async function predict(model: PredictModel, videos: readonly PredictVideo[], opts: PredictOptions = {}): Promise<PredictResult> {
  await initEngine();
  const where = opts.source === undefined ? "" : ` in ${opts.source}`;
  const file = opts.source ?? "<input>";
  const policy = opts.modalities ?? "restrict";
  if (policy !== "restrict" && policy !== "as-given") {
    throw new ConfigError(`modalities policy must be "restrict" or "as-given", got ${JSON.stringify(policy)}`);
  }
  const dims = model.shape.dims;
  const trained = new Set<Modality>(model.stage === 1 ? MODALITIES : availableModalities(model.condition));
  const warnings: string[] = [];
  const untrained = new Map<Condition, { count: number; first: string }>();

  // Check, normalise and group the utterances.
  const groups: Group[] = [];
  const placed: { given: Condition; condition: Condition; group: number; row: number }[][] = [];
  videos.forEach((video, vi) => {
    const byCondition = new Map<Condition, Group>();
    placed.push(
      video.utterances.map((utt, ui) => {
        const at = `utterance '${utt.id}' of video '${video.id}'${where}`;
        const given = MODALITIES.filter((m) => utt.features[m] !== undefined && utt.features[m] !== null);
        if (given.length === 0) throw new ConfigError(`${at} has no features (it needs at least one of a, t, v)`);
        let used = given;
        if (policy === "restrict" && given.some((m) => trained.has(m))) used = given.filter((m) => trained.has(m));
        const condition = conditionOf(used);
        const outside = used.filter((m) => !trained.has(m));
        if (outside.length > 0) {
          const u = untrained.get(condition) ?? { count: 0, first: `'${video.id}'/'${utt.id}'` };
          u.count++;
          untrained.set(condition, u);
        }
        let g = byCondition.get(condition);
        if (!g) {
          g = { index: groups.length, members: [], condition, rows: {} };
          byCondition.set(condition, g);
          groups.push(g);
        }
        const row = g.members.length;
        g.members.push(ui);
        for (const m of used) {
          const raw = utt.features[m]!;
          if (raw.length !== dims[m]) {
            throw new FeatureDimensionError(`${at}: its '${m}' vector has ${raw.length} values, the model expects ${dims[m]}`, file, dims[m], raw.length);
          }
          const x = raw instanceof Float32Array ? raw : Float32Array.from(raw);
          const bad = x.findIndex((v) => !Number.isFinite(v));
          if (bad >= 0) throw new NonFiniteFeatureError(`${at}: its '${m}' vector has ${x[bad]} at position ${bad}`, file);
          (g.rows[m] ??= []).push(normalizeVector(x, model.normalization, m));
        }
        return { given: conditionOf(given), condition, group: g.index, row };
      }),
    );
  });
  for (const [condition, u] of untrained) {
    const outside = availableModalities(condition).filter((m) => !trained.has(m));
    warnings.push(
      `${u.count} utterance(s) (first: ${u.first}) ran under condition ${condition}, which includes ${outside.join(", ")}: ` +
        `the model was trained under ${model.condition}, so the subtle stage's generation projection for ` +
        `${outside.join(", ")} was never trained; treat these predictions with caution`,
    );
  }

  // Run each condition's groups in padded batches.
  const longest = groups.reduce((n, g) => Math.max(n, g.members.length), 0);
  const S = opts.padTo ?? Math.max(8, Math.ceil(longest / 8) * 8);
  const B = opts.batchSize ?? model.config.batchSize;
  if (!(Number.isInteger(B) && B > 0)) throw new ConfigError(`batch size must be a positive integer, got ${B}`);
  if (!(Number.isInteger(S) && S >= longest && S > 0)) {
    throw new ConfigError(`padTo must be an integer ≥ the longest group (${longest} utterances), got ${S}`);
  }
  const outputs: { out: BatchOutput; slot: number }[] = new Array(groups.length);
  for (const condition of CONDITIONS) {
    const members = groups.map((g, i) => [g, i] as const).filter(([g]) => g.condition === condition);
    if (members.length === 0) continue;
    const run = runner(model, condition);
    for (let start = 0; start < members.length; start += B) {
      const chunk = members.slice(start, start + B);
      const x = { a: new Float32Array(B * S * dims.a), t: new Float32Array(B * S * dims.t), v: new Float32Array(B * S * dims.v) };
      const umask = new Float32Array(B * S);
      chunk.forEach(([g], b) => {
        for (const m of MODALITIES) g.rows[m]?.forEach((r, i) => x[m].set(r, (b * S + i) * dims[m]));
        umask.fill(1, b * S, b * S + g.members.length);
      });
      const out = run(x, umask, B, S);
      chunk.forEach(([, gi], b) => (outputs[gi] = { out, slot: b }));
    }
  }

  // Read each utterance's outputs back.
  const C = model.shape.nClasses;
  const h = model.shape.heads;
  const result: VideoPrediction[] = videos.map((video, vi) => ({
    id: video.id,
    utterances: video.utterances.map((utt, ui) => {
      const p = placed[vi][ui];
      const { out, slot } = outputs[p.group];
      const pos = slot * S + p.row;
      const logits = Array.from(out.prediction.subarray(pos * C, pos * C + C));
      const u: UtterancePrediction = {
        id: utt.id,
        given: p.given,
        condition: p.condition,
        ...(model.task === "regression" ? { score: logits[0] } : { probabilities: softmaxRow(logits), predictedClass: argmax(logits) }),
        alpha: null,
        headWeights: null,
      };
      if (out.alpha) {
        const a = out.alpha;
        u.alpha = { a: a[pos * 3], t: a[pos * 3 + 1], v: a[pos * 3 + 2] };
      }
      if (out.headWeights) {
        const w = out.headWeights;
        u.headWeights = {
          a: Array.from(w.a.subarray(pos * h, pos * h + h)),
          t: Array.from(w.t.subarray(pos * h, pos * h + h)),
          v: Array.from(w.v.subarray(pos * h, pos * h + h)),
        };
      }
      return u;
    }),
  }));
  return { videos: result, warnings };
}

// ---------------------------------------------------------------------------------------------
// evaluate

export type SplitName = "train" | "val" | "test";

export interface EvaluatedUtterance {
  video: string;
  utterance: string;
  label: number;
  /** The model's raw output: [score] for regression, the C logits for classification. */
  output: number[];
}

export interface EvaluateResult {
  split: SplitName;
  condition: Condition;
  metrics: Metrics;
  /** Valid utterances of the split, in batch order (the split's video order). */
  utterances: EvaluatedUtterance[];
}

/**
 * Metrics (spec §2.6) of a saved model on one split of `dataset` under `condition` (default: the
 * model's). `dataset` holds raw features as `loadDataset` returns them: the model's saved
 * normalisation is applied here. Batches are laid out as the training loop lays them out (the
 * model's batch size, the dataset's padded length), so the numbers are the ones training reported
 * for the same weights.
 */
export async function evaluate(
  model: PredictModel,
  dataset: Dataset,
  split: SplitName = "test",
  condition?: Condition,
): Promise<EvaluateResult> {
  await initEngine();
  const c = condition ?? (model.stage === 1 ? "atv" : model.condition);
  if (!(CONDITIONS as readonly string[]).includes(c as string)) throw new ConfigError(`unknown condition '${c}'; expected one of ${CONDITIONS.join(", ")}`);
  if (!["train", "val", "test"].includes(split)) throw new ConfigError(`unknown split '${split}'; expected train, val or test`);
  for (const m of MODALITIES) {
    if (dataset.dims[m] !== model.shape.dims[m]) {
      throw new ConfigError(`the dataset's '${m}' features have ${dataset.dims[m]} dims (${dataset.sources[m]}), the model expects ${model.shape.dims[m]}`, dataset.sources[m]);
    }
  }
  if (dataset.task !== model.task || (model.task === "classification" && dataset.nClasses !== model.shape.nClasses)) {
    throw new ConfigError(
      `the dataset (${dataset.name}, ${dataset.task}, ${dataset.nClasses} class(es)) does not match the model ` +
        `(${model.config.dataset}, ${model.task}, ${model.shape.nClasses} output(s))`,
      dataset.sources.labels,
    );
  }
  const ids = dataset.splits[split];
  if (ids.length === 0) throw new ConfigError(`the ${split} split of ${dataset.sources.labels} is empty`, dataset.sources.labels);
  const normalized = applyNormalization(dataset, model.normalization);
  const batches = makeBatches(normalized, ids, {
    batchSize: model.config.batchSize, padTo: paddedLength(normalized), lastBatchMultiple: EVAL_LAST_BATCH_MULTIPLE,
  });
  const run = runner(model, c);
  const C = model.shape.nClasses;
  const preds: number[] = [];
  const labels: number[] = [];
  const utterances: EvaluatedUtterance[] = [];
  for (const b of batches) {
    const out = run(b.features, b.umask, b.B, b.S);
    for (let row = 0; row < b.B; row++) {
      const vid = b.videoIds[row];
      if (vid === null) continue;
      const video = normalized.videos.get(vid)!;
      for (let s = 0; s < b.lengths[row]; s++) {
        const pos = row * b.S + s;
        const output = Array.from(out.prediction.subarray(pos * C, pos * C + C));
        preds.push(...output);
        labels.push(b.labels[pos]);
        utterances.push({ video: vid, utterance: video.utteranceIds[s], label: video.labels[s], output });
      }
    }
  }
  const metrics = model.task === "regression" ? regressionMetrics(preds, labels) : classificationMetrics(preds, labels, C);
  return { split, condition: c, metrics, utterances };
}
