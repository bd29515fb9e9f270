/**
 * `npm run bench`: timings on real CMU-MOSI batches (../shared/data or $DSSR_SHARED), MOSI
 * settings (batch 32 videos padded to 64 utterances, D 128, dropout 0.5): the median time of one
 * training step of each stage, of one evaluation forward, and one full epoch of each stage
 * (all training batches plus the validation and test passes), after a warm-up step that compiles.
 * Timings only; no assertion. Options: --repeats N (default 5), --condition C (default atv),
 * --profile (instead: one compiled step of each stage under jax-js's profiler, its kernels by cost).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initEngine, np, random, tree, type Arr } from "../src/engine.js";
import { makeBatches, paddedLength } from "../src/data/batches.js";
import { loadDataset, normalizeDataset } from "../src/data/dataset.js";
import type { Batch, PerModality } from "../src/data/types.js";
import { availableModalities, type Condition } from "../src/config/types.js";
import { initParams } from "../src/model/params.js";
import { adamInit, adamScalars, ADAM_DEFAULTS } from "../src/train/adam.js";
import { profileKernels } from "./kernel-profile.js";
import { compileSteps, splitStage1, splitStage2, type StepConfig } from "../src/train/step.js";

const { values } = parseArgs({ options: { repeats: { type: "string", default: "5" }, condition: { type: "string", default: "atv" }, profile: { type: "boolean", default: false } } });
const repeats = values.profile ? 1 : Number(values.repeats);
const condition = values.condition as Condition;
const shared = process.env.DSSR_SHARED ?? join(import.meta.dirname, "..", "..", "shared");
const dir = join(shared, "data", "CMUMOSI");

await initEngine();
const raw = loadDataset({
  name: "CMUMOSI",
  dataDir: dir,
  features: { audio: "bclstm-opensmile-UTT", text: "bclstm-textcnn-UTT", video: "bclstm-3dcnn-UTT" },
});
const { dataset } = normalizeDataset(raw, "zscore");
const B = 32;
const S = paddedLength(dataset);
const D = 128;
const cfg: StepConfig = { task: "regression", nClasses: 1, heads: 4, dropout: 0.5, adam: { ...ADAM_DEFAULTS, lr: 2e-4 } };
const train = makeBatches(dataset, dataset.splits.train, { batchSize: B, padTo: S, shuffleSeed: 66 });
const evalBatches = [
  ...makeBatches(dataset, dataset.splits.val, { batchSize: B, padTo: S }),
  ...makeBatches(dataset, dataset.splits.test, { batchSize: B, padTo: S }),
];
const f32 = (a: Float32Array, s: number[]) => np.array(a, { dtype: np.float32 }).reshape(s);
const arrays = (b: Batch) => ({
  x: { a: f32(b.features.a, [B, S, 73]), t: f32(b.features.t, [B, S, 100]), v: f32(b.features.v, [B, S, 100]) },
  umask: f32(b.umask, [B, S]),
  labels: f32(b.labels, [B, S]),
});
let stepCount = 0;
const sc = () => {
  const { stepSize, bc2Sqrt } = adamScalars(cfg.adam, ++stepCount);
  const s = (v: number) => np.array(new Float32Array([v])).reshape([]);
  return { stepSize: s(stepSize), bc2Sqrt: s(bc2Sqrt) };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (f: () => void) => {
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
};
const done = (l: { total: Arr; task: Arr; unimodal: PerModality<Arr>; aux: Arr }) => {
  l.total.item();
  tree.dispose([l.task, l.unimodal, l.aux] as never);
};

console.log(`CMU-MOSI real batches: B ${B} × S ${S}, D ${D}; train ${train.length} batches, eval ${evalBatches.length}; condition ${condition}`);
const params = initParams({ dims: dataset.dims, hidden: D, heads: 4, nClasses: 1, depth: 4 }, 66);

// Stage 1.
const s1 = compileSteps(cfg, ["a", "t", "v"]);
let t1 = splitStage1(params);
let m1 = adamInit(t1);
let centres: PerModality<Arr> = { a: np.zeros([2, D]), t: np.zeros([2, D]), v: np.zeros([2, D]) };
const step1 = (b: Batch, k: number) => {
  const classMask = new Float32Array(B * S * 2);
  for (let i = 0; i < B * S; i++) if (b.umask[i] > 0 && Math.abs(b.labels[i]) >= 1) classMask[i * 2 + (b.labels[i] > 0 ? 1 : 0)] = 1;
  const dcl = { classMask: f32(classMask, [B * S, 2]), topk: np.ones([2]).mul(8), momentum: np.array(new Float32Array([0.6])).reshape([]), centres };
  const out = s1.train1(t1, m1, arrays(b), dcl, { salient: sc(), heads: sc() }, random.key(k));
  t1 = out.trainable;
  m1 = out.moments;
  centres = out.centres;
  done(out.losses);
};
const eval1 = (b: Batch) => {
  const a = arrays(b);
  a.labels.dispose();
  s1.eval1(tree.ref(t1), a.x, a.umask).dataSync();
};
const first1 = time(() => step1(train[0], 0));
if (values.profile) await profileKernels("stage 1 step", () => step1(train[1 % train.length], 1));
const e1first = time(() => eval1(evalBatches[0]));
const steps1 = Array.from({ length: repeats }, (_, i) => time(() => step1(train[i % train.length], i + 1)));
const evals1 = Array.from({ length: repeats }, (_, i) => time(() => eval1(evalBatches[i % evalBatches.length])));
const epoch1 = time(() => {
  train.forEach((b, i) => step1(b, 100 + i));
  evalBatches.forEach(eval1);
});

// Stage 2 under the condition.
const available = availableModalities(condition);
const s2 = compileSteps(cfg, available);
let [t2, frozen] = splitStage2({ ...params, salient: t1.salient, heads: t1.heads }, available);
let m2 = adamInit(t2);
const step2 = (b: Batch, k: number) => {
  const gen = Object.fromEntries(available.map((m) => [m, sc()]));
  const out = s2.train2(t2, m2, tree.ref(frozen), arrays(b), { heads: sc(), core: sc(), generation: gen }, random.key(k));
  t2 = out.trainable;
  m2 = out.moments;
  done(out.losses);
};
const eval2 = (b: Batch) => {
  const a = arrays(b);
  a.labels.dispose();
  const p = s2.eval2(tree.ref(t2), tree.ref(frozen), a.x, a.umask);
  p.prediction.dataSync();
  tree.dispose([p.unimodal, p.alpha, p.headWeights] as never);
};
const first2 = time(() => step2(train[0], 0));
if (values.profile) {
  await profileKernels(`stage 2 (${condition}) step`, () => step2(train[1 % train.length], 1));
  process.exit(0);
}
const e2first = time(() => eval2(evalBatches[0]));
const steps2 = Array.from({ length: repeats }, (_, i) => time(() => step2(train[i % train.length], i + 1)));
const evals2 = Array.from({ length: repeats }, (_, i) => time(() => eval2(evalBatches[i % evalBatches.length])));
const epoch2 = time(() => {
  train.forEach((b, i) => step2(b, 100 + i));
  evalBatches.forEach(eval2);
});

const row = (name: string, first: number, med: number, evFirst: number, ev: number, epoch: number) =>
  `${name.padEnd(8)} first step ${first.toFixed(2).padStart(7)} s   median step ${med.toFixed(2).padStart(6)} s   first eval ${evFirst.toFixed(2).padStart(6)} s   median eval ${ev.toFixed(2).padStart(5)} s   epoch ${epoch.toFixed(2).padStart(6)} s`;
console.log(row("stage 1", first1, median(steps1), e1first, median(evals1), epoch1));
console.log(row(`stage 2`, first2, median(steps2), e2first, median(evals2), epoch2));
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; medians of ${repeats}; epoch = ${train.length} training steps + ${evalBatches.length} evaluation batches`);
