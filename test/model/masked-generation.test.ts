/**
 * The per-utterance generation module of the missing-rate protocol (data/missing.ts,
 * maskedGenerationModule): P_gen_m = M_m·P_m + (1 − M_m)·(Σ_k M_k P_k)/(Σ_k M_k).
 * - for each of the seven patterns it is exactly the condition's generation module (spec §2.3);
 * - positions of different patterns in one batch each get their own pattern's output;
 * - the whole stage-2 forward under a mixed mask gives each utterance its condition's output;
 * - a missing modality's raw features (zeroed on the host by maskBatch) change nothing, in the
 *   forward and in the training gradient, while an available modality's do.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine, np, random, tree, type Arr } from "../../src/engine.js";
import { CONDITIONS, availableModalities, type Condition } from "../../src/config/types.js";
import { MODALITIES, type Batch, type PerModality } from "../../src/data/types.js";
import { maskBatch, patternOf } from "../../src/data/missing.js";
import { gaussian, mulberry32 } from "../../src/data/rng.js";
import { generationModule, maskedGenerationModule } from "../../src/model/generation-module.js";
import { initParams } from "../../src/model/params.js";
import {
  ALL_MODALITIES, predictStage2, splitStage2, stage2Gradients, type StepConfig,
} from "../../src/train/step.js";

const dims = { a: 5, t: 7, v: 6 };
const shape = { dims, hidden: 16, heads: 4, nClasses: 1, depth: 1 };
const cfg: StepConfig = {
  task: "regression", nClasses: 1, heads: 4, dropout: 0,
  adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 },
};

before(async () => {
  await initEngine();
});

function gaussians(n: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n }, () => gaussian(rng));
}
const arr = (a: Float32Array, s: number[]) => np.array(a, { dtype: np.float32 }).reshape(s);
/** The values of an array; consumes it. */
const read = (a: Arr) => Array.from(a.dataSync() as Float32Array);
/** Mask [n·3] for per-position conditions. */
const maskOf = (conds: readonly Condition[]) =>
  Float32Array.from(conds.flatMap((c) => MODALITIES.map((m) => (availableModalities(c).includes(m) ? 1 : 0))));
/** Exact equality of two float lists (=== per element, so -0 equals 0), with the first difference named. */
function assertExact(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length);
  const i = got.findIndex((g, k) => !(g === want[k]));
  assert.equal(i, -1, `${what}: first difference at ${i}: ${got[i]} vs ${want[i]}`);
}

test("for each of the 7 patterns the masked GM equals the condition's GM exactly", () => {
  const params = initParams(shape, 3);
  const [B, S] = [2, 4];
  const x = { a: gaussians(B * S * 5, 1), t: gaussians(B * S * 7, 2), v: gaussians(B * S * 6, 3) };
  const xArr = () => ({ a: arr(x.a, [B, S, 5]), t: arr(x.t, [B, S, 7]), v: arr(x.v, [B, S, 6]) });
  for (const condition of CONDITIONS) {
    const available = availableModalities(condition);
    for (const proj of [params.salient.proj, params.subtle.generation]) {
      const xs = xArr();
      const want = generationModule(proj, xs, available);
      // The masked path sees the missing modalities' features zeroed, as maskBatch leaves them.
      const xz = xArr();
      for (const m of MODALITIES) if (!available.includes(m)) { xz[m].dispose(); xz[m] = np.zeros([B, S, dims[m]]); }
      const mask = arr(maskOf(Array(B * S).fill(condition)), [B, S, 3]);
      const got = maskedGenerationModule(proj, xz, mask);
      for (const m of MODALITIES) assertExact(read(got[m]), read(want[m]), `condition ${condition}, P_${m}`);
      tree.dispose([xs, xz, mask] as never); // got and want were consumed by read
    }
  }
  tree.dispose(params as never);
});

test("a mixed mask: each position gets its own pattern's GM output", () => {
  const params = initParams(shape, 4);
  const proj = params.subtle.generation;
  const [B, S] = [3, 7];
  // Every pattern at several positions, in a scrambled order.
  const conds = Array.from({ length: B * S }, (_, i) => CONDITIONS[(i * 5) % 7]);
  const x = { a: gaussians(B * S * 5, 11), t: gaussians(B * S * 7, 12), v: gaussians(B * S * 6, 13) };
  const xz = { a: x.a.slice(), t: x.t.slice(), v: x.v.slice() };
  conds.forEach((c, i) => {
    for (const m of MODALITIES) if (!availableModalities(c).includes(m)) xz[m].fill(0, i * dims[m], (i + 1) * dims[m]);
  });
  const mask = arr(maskOf(conds), [B, S, 3]);
  const xs = { a: arr(xz.a, [B, S, 5]), t: arr(xz.t, [B, S, 7]), v: arr(xz.v, [B, S, 6]) };
  const got = maskedGenerationModule(proj, xs, mask);
  const gotRead = { a: read(got.a), t: read(got.t), v: read(got.v) };
  for (const condition of CONDITIONS) {
    const full = { a: arr(x.a, [B, S, 5]), t: arr(x.t, [B, S, 7]), v: arr(x.v, [B, S, 6]) };
    const want = generationModule(proj, full, availableModalities(condition));
    for (const m of MODALITIES) {
      const w = read(want[m]);
      conds.forEach((c, i) => {
        if (c === condition) assertExact(gotRead[m].slice(i * 16, (i + 1) * 16), w.slice(i * 16, (i + 1) * 16), `position ${i} (${c}), P_${m}`);
      });
    }
    tree.dispose(full as never);
  }
  tree.dispose([params, xs, mask] as never);
});

// ---- the whole stage-2 forward ---------------------------------------------------------------

const B = 7;
const S = 8;

/** A host batch of B videos with the given lengths; features Gaussian. */
function hostBatch(lengths: number[], seed: number): Batch {
  const features = {} as PerModality<Float32Array>;
  MODALITIES.forEach((m, j) => (features[m] = gaussians(B * S * dims[m], seed * 10 + j)));
  const umask = new Float32Array(B * S);
  lengths.forEach((n, b) => {
    for (let s = 0; s < S; s++) {
      if (s < n) umask[b * S + s] = 1;
      else for (const m of MODALITIES) features[m].fill(0, (b * S + s) * dims[m], (b * S + s + 1) * dims[m]);
    }
  });
  return {
    B, S, features, umask, qmask: new Float32Array(B * S), labels: gaussians(B * S, seed + 99).map((y, i) => y * umask[i]),
    videoIds: lengths.map((_, b) => `vid${b}`), lengths,
  };
}

/** Video masks giving utterance s of video b the condition conds[b][s]. */
function masksFor(conds: Condition[][]): Map<string, Uint8Array> {
  return new Map(conds.map((cs, b) => [`vid${b}`, Uint8Array.from(maskOf(cs))]));
}

type Out = { prediction: number[]; alpha: number[]; unimodal: number[][]; headWeights: number[][] };

function predictMasked(params: ReturnType<typeof initParams>, batch: Batch, masks: Map<string, Uint8Array>): Out {
  const { batch: mb, mask } = maskBatch(batch, dims, masks);
  const [t, fr] = splitStage2(params, ALL_MODALITIES);
  const out = predictStage2(
    cfg, ALL_MODALITIES, tree.ref(t), tree.ref(fr),
    { a: arr(mb.features.a, [B, S, 5]), t: arr(mb.features.t, [B, S, 7]), v: arr(mb.features.v, [B, S, 6]) },
    arr(mb.umask, [B, S]), arr(mask, [B, S, 3]),
  );
  return readOut(out);
}

function predictCondition(params: ReturnType<typeof initParams>, batch: Batch, condition: Condition): Out {
  const available = availableModalities(condition);
  const [t, fr] = splitStage2(params, available);
  const f = batch.features;
  const out = predictStage2(
    cfg, available, tree.ref(t), tree.ref(fr),
    { a: arr(f.a, [B, S, 5]), t: arr(f.t, [B, S, 7]), v: arr(f.v, [B, S, 6]) }, arr(batch.umask, [B, S]),
  );
  return readOut(out);
}

function readOut(out: ReturnType<typeof predictStage2>): Out {
  // dataSync consumes each array.
  return {
    prediction: read(out.prediction), alpha: read(out.alpha),
    unimodal: MODALITIES.map((m) => read(out.unimodal[m])), headWeights: MODALITIES.map((m) => read(out.headWeights[m])),
  };
}

/** The largest |difference| at utterance (b, s) over every output, relative to the outputs' scale. */
function utteranceDiff(a: Out, b: Out, pos: number): number {
  let worst = 0;
  const cmp = (x: number[], y: number[], width: number) => {
    for (let k = pos * width; k < (pos + 1) * width; k++) worst = Math.max(worst, Math.abs(x[k] - y[k]) / (1 + Math.abs(y[k])));
  };
  cmp(a.prediction, b.prediction, 1);
  cmp(a.alpha, b.alpha, 3);
  a.unimodal.forEach((u, j) => cmp(u, b.unimodal[j], 1));
  a.headWeights.forEach((w, j) => cmp(w, b.headWeights[j], 4));
  return worst;
}

test("stage-2 forward, mixed mask: every utterance gets its condition's output", () => {
  const params = initParams(shape, 7);
  // Rows 0-6: one condition per video (7 utterances each, so attention mixes them);
  // the same batch with one-utterance videos, where every row has its own pattern.
  for (const lengths of [[7, 7, 7, 7, 7, 7, 7], [1, 1, 1, 1, 1, 1, 1]]) {
    const batch = hostBatch(lengths, 5);
    const conds = lengths.map((n, b) => Array<Condition>(n).fill(CONDITIONS[b]));
    const masked = predictMasked(params, batch, masksFor(conds));
    let worst = 0;
    let exact = true;
    for (const [b, condition] of CONDITIONS.entries()) {
      const ref = predictCondition(params, batch, condition);
      assert.ok(ref.prediction.every(Number.isFinite));
      for (let s = 0; s < lengths[b]; s++) {
        const d = utteranceDiff(masked, ref, b * S + s);
        worst = Math.max(worst, d);
        exact &&= d === 0;
      }
    }
    assert.ok(worst < 1e-5, `lengths ${lengths[0]}: worst relative difference ${worst}`);
    console.log(`# mixed mask, videos of ${lengths[0]} utterance(s): worst difference ${worst}${exact ? " (bit-identical)" : ""}`);
  }
  tree.dispose(params as never);
});

test("a missing modality's raw features change nothing (forward and gradient); an available one's do", () => {
  const params = initParams(shape, 8);
  const lengths = [8, 5, 3, 8, 6, 2, 7];
  const rng = mulberry32(21);
  const conds = lengths.map((n) => Array.from({ length: n }, () => CONDITIONS[Math.floor(rng() * 7)]));
  const masks = masksFor(conds);
  const batch = hostBatch(lengths, 9);
  /** The batch with every missing (utterance, modality) cell's features replaced by `fill`. */
  const replaced = (fill: (i: number) => number): Batch => {
    const features = { a: batch.features.a.slice(), t: batch.features.t.slice(), v: batch.features.v.slice() };
    conds.forEach((cs, b) => cs.forEach((c, s) => {
      for (const m of MODALITIES) {
        if (patternOf(maskOf([c])).includes(m)) continue;
        for (let k = (b * S + s) * dims[m]; k < (b * S + s + 1) * dims[m]; k++) features[m][k] = fill(k);
      }
    }));
    return { ...batch, features };
  };
  const reference = predictMasked(params, batch, masks);
  assert.ok(reference.prediction.every(Number.isFinite));
  for (const other of [replaced(() => Number.NaN), replaced((k) => 1e3 * Math.sin(k))]) {
    assert.deepEqual(predictMasked(params, other, masks), reference);
  }
  // An available modality's features do matter: change the first utterance's first available one.
  const first = availableModalities(conds[0][0])[0];
  const changed = { ...batch, features: { ...batch.features, [first]: batch.features[first].map((x, k) => (k < dims[first] ? x + 1 : x)) } };
  assert.notDeepEqual(predictMasked(params, changed, masks).prediction, reference.prediction);

  // The training gradient too (eager; dropout on, same key).
  const grads = (b: Batch) => {
    const { batch: mb, mask } = maskBatch(b, dims, masks);
    const [t, fr] = splitStage2(params, ALL_MODALITIES);
    const cfgTrain = { ...cfg, dropout: 0.3 };
    const { grads: g, losses } = stage2Gradients(
      cfgTrain, ALL_MODALITIES, tree.ref(t), tree.ref(fr),
      {
        x: { a: arr(mb.features.a, [B, S, 5]), t: arr(mb.features.t, [B, S, 7]), v: arr(mb.features.v, [B, S, 6]) },
        umask: arr(mb.umask, [B, S]), labels: arr(mb.labels, [B, S]),
      },
      random.key(42), arr(mask, [B, S, 3]),
    );
    const leaves = tree.leaves(g as never) as Arr[];
    const out = { total: losses.total.item(), grads: leaves.map(read) };
    tree.dispose([losses.task, losses.unimodal, losses.aux] as never);
    return out;
  };
  const g0 = grads(batch);
  assert.ok(Number.isFinite(g0.total));
  assert.deepEqual(grads(replaced(() => Number.NaN)), g0);
  tree.dispose(params as never);
});
