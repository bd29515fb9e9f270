/**
 * Property behind evaluation's short last batch (data/batches.ts `lastBatchMultiple`): a video's
 * predictions do not depend on the other rows of its batch or on how many there are, so padding a
 * last batch of 3 videos to 4 rows instead of 8 changes no output bit, in the jitted evaluation
 * steps of both stages that the training loop uses.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine, np, tree, type Arr } from "../../src/engine.js";
import { availableModalities } from "../../src/config/types.js";
import { MODALITIES, type PerModality } from "../../src/data/types.js";
import { initParams } from "../../src/model/params.js";
import { mulberry32, gaussian } from "../../src/data/rng.js";
import { compileSteps, splitStage1, splitStage2, type StepConfig } from "../../src/train/step.js";

const S = 8;
const dims = { a: 5, t: 7, v: 6 };
const shape = { dims, hidden: 16, heads: 4, nClasses: 1, depth: 2 };
const cfg: StepConfig = {
  task: "regression", nClasses: 1, heads: 4, dropout: 0.5,
  adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 },
};
const lengths = [8, 5, 3];

/** 3 videos in the first rows of a batch of B rows; padding rows are zero, as batches.ts makes them. */
function batch(B: number) {
  const rng = mulberry32(11);
  const x = {} as PerModality<Arr>;
  for (const m of MODALITIES) {
    const a = new Float32Array(B * S * dims[m]);
    lengths.forEach((n, b) => {
      for (let i = 0; i < n * dims[m]; i++) a[b * S * dims[m] + i] = gaussian(rng);
    });
    x[m] = np.array(a, { dtype: np.float32 }).reshape([B, S, dims[m]]);
  }
  const u = new Float32Array(B * S);
  lengths.forEach((n, b) => u.fill(1, b * S, b * S + n));
  return { x, umask: np.array(u, { dtype: np.float32 }).reshape([B, S]) };
}

const firstRows = (a: Arr, perRow: number) => Array.from(a.dataSync() as Float32Array).slice(0, lengths.length * perRow);

before(async () => {
  await initEngine();
});

test("stage 1 and stage 2 evaluation: the same bits for a video whatever the batch's row count", () => {
  const params = initParams(shape, 3, np.float32);
  const s1 = compileSteps(cfg, ["a", "t", "v"]);
  const t1 = splitStage1(tree.ref(params));
  const available = availableModalities("at");
  const s2 = compileSteps(cfg, available);
  const [t2, frozen] = splitStage2(tree.ref(params), available);
  const out = (B: number) => {
    const b1 = batch(B);
    const p1 = firstRows(s1.eval1(tree.ref(t1), b1.x, b1.umask), S);
    const b2 = batch(B);
    const e2 = s2.eval2(tree.ref(t2), tree.ref(frozen), b2.x, b2.umask);
    const p2 = firstRows(e2.prediction, S);
    const alpha = firstRows(e2.alpha, S * 3);
    tree.dispose([e2.unimodal, e2.headWeights] as never);
    return { p1, p2, alpha };
  };
  const short = out(4);
  const full = out(8);
  assert.ok(short.p1.some((v) => v !== 0) && short.p2.some((v) => v !== 0));
  assert.deepEqual(short, full);
  tree.dispose([params, t1, t2, frozen] as never);
  s1.dispose();
  s2.dispose();
});
