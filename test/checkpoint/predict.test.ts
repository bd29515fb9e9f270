/**
 * predict and evaluate with a tiny saved model (hidden 16, depth 1, initParams):
 * - an utterance lacking a modality gets the stage-2 forward under the condition of the
 *   modalities it has, run on the video's utterances with that set (checked against a direct
 *   predictStage2 call), and never reads the missing modality;
 * - predict on a dataset's split, read from the pickle layout, equals evaluate's predictions;
 * - the "restrict" policy, warnings, classification probabilities, stage-1 models, JSON input.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadModel, saveModel, type LoadedModel } from "../../src/checkpoint/model-file.js";
import { availableModalities, type Condition } from "../../src/config/types.js";
import { paddedLength } from "../../src/data/batches.js";
import { featurePaths, fitZscore, loadDataset } from "../../src/data/dataset.js";
import { readLabelFile } from "../../src/data/labels.js";
import { gaussian, mulberry32 } from "../../src/data/rng.js";
import { writeSyntheticDataset, SYNTHETIC_FEATURES } from "../../src/data/synthetic.js";
import { MODALITIES, type Dataset, type PerModality } from "../../src/data/types.js";
import { initEngine, np, tree, type Arr } from "../../src/engine.js";
import { ConfigError, FeatureDimensionError, FormatError } from "../../src/errors.js";
import { regressionMetrics } from "../../src/eval/metrics.js";
import { initParams } from "../../src/model/params.js";
import { parsePredictJson, readPredictJson, readPredictPickles, splitVideoIds } from "../../src/predict-input.js";
import { evaluate, predict, type PredictModel, type PredictVideo } from "../../src/predict.js";
import { ADAM_DEFAULTS } from "../../src/train/adam.js";
import { predictStage2, splitStage2, type StepConfig } from "../../src/train/step.js";
import { TINY_DIMS, tinyConfig, tinyNorm, tinyShape } from "./helpers.js";

const dims = TINY_DIMS;

function randomVideo(id: string, n: number, seed: number): PredictVideo {
  const rng = mulberry32(seed);
  return {
    id,
    utterances: Array.from({ length: n }, (_, i) => ({
      id: `${id}_${i}`,
      features: {
        a: Float32Array.from({ length: dims.a }, () => 3 * gaussian(rng)),
        t: Float32Array.from({ length: dims.t }, () => gaussian(rng)),
        v: Float32Array.from({ length: dims.v }, () => 2 + gaussian(rng)),
      },
    })),
  };
}

/** The direct stage-2 forward (eager, no jit) of one padded row, normalised as the model says. */
function directForward(model: PredictModel, condition: Condition, rows: PerModality<Float32Array>[], S: number) {
  const available = availableModalities(condition);
  const stats = model.normalization;
  const x = {} as PerModality<Arr>;
  for (const m of MODALITIES) {
    const buf = new Float32Array(S * dims[m]);
    rows.forEach((r, i) => {
      if (!available.includes(m)) return; // never given: stays zero
      const z = stats.method === "zscore" ? r[m].map((v, j) => (v - stats.mean[m][j]) / stats.std[m][j]) : r[m];
      buf.set(z, i * dims[m]);
    });
    x[m] = np.array(buf, { dtype: np.float32 }).reshape([1, S, dims[m]]);
  }
  const umask = np.array(Float32Array.from({ length: S }, (_, i) => (i < rows.length ? 1 : 0)), { dtype: np.float32 }).reshape([1, S]);
  const cfg: StepConfig = { task: model.task, nClasses: model.shape.nClasses, heads: model.shape.heads, dropout: 0, adam: { ...ADAM_DEFAULTS, lr: 0 } };
  const [t, fr] = splitStage2(model.params, available);
  const out = predictStage2(cfg, available, tree.ref(t), tree.ref(fr), x, umask);
  tree.dispose(out.unimodal as never);
  const read = (a: Arr) => Array.from(a.dataSync() as Float32Array);
  return {
    prediction: read(out.prediction),
    alpha: read(out.alpha),
    headWeights: { a: read(out.headWeights.a), t: read(out.headWeights.t), v: read(out.headWeights.v) },
  };
}

function close(got: number, want: number, what: string, tol = 1e-5): void {
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);
}

describe("predict and evaluate", () => {
  let root: string;
  let model: LoadedModel;

  before(async () => {
    await initEngine();
    root = mkdtempSync(join(tmpdir(), "dssr-test-predict-"));
    const params = initParams(tinyShape(), 21);
    await saveModel(join(root, "m"), { params, shape: tinyShape(), config: tinyConfig({ batchSize: 2 }), normalization: tinyNorm() });
    tree.dispose(params as never);
    model = await loadModel(join(root, "m"));
  });
  after(() => {
    tree.dispose(model.params as never);
    rmSync(root, { recursive: true, force: true });
  });

  it("an utterance lacking a modality gets the stage-2 forward under the condition of the ones it has", async () => {
    const video = randomVideo("vid", 5, 1);
    const full = video.utterances.map((u) => u.features as PerModality<Float32Array>);
    delete video.utterances[2].features.v; // utterance 2: a and t only
    const res = await predict(model, [video], { padTo: 8 });
    assert.deepEqual(res.warnings, []);
    const got = res.videos[0].utterances;
    assert.deepEqual(got.map((u) => [u.id, u.given, u.condition]), [
      ["vid_0", "atv", "atv"], ["vid_1", "atv", "atv"], ["vid_2", "at", "at"], ["vid_3", "atv", "atv"], ["vid_4", "atv", "atv"],
    ]);
    // The atv group is utterances 0, 1, 3, 4 in order; the at group is utterance 2 alone.
    const atv = directForward(model, "atv", [full[0], full[1], full[3], full[4]], 8);
    const at = directForward(model, "at", [full[2]], 8);
    const h = model.shape.heads;
    const expect = [[atv, 0], [atv, 1], [at, 0], [atv, 2], [atv, 3]] as const;
    got.forEach((u, i) => {
      const [ref, row] = expect[i];
      close(u.score!, ref.prediction[row], `score of ${u.id}`);
      MODALITIES.forEach((m, k) => close(u.alpha![m], ref.alpha[row * 3 + k], `α_${m} of ${u.id}`));
      for (const m of MODALITIES) {
        u.headWeights![m].forEach((w, k) => close(w, ref.headWeights[m][row * h + k], `w̄_${m}[${k}] of ${u.id}`));
      }
      const alphaSum = u.alpha!.a + u.alpha!.t + u.alpha!.v;
      close(alphaSum, 1, `Σα of ${u.id}`);
    });
    // Utterance 2 attends to no other utterance: alone in a video of its own it gets the same outputs.
    const alone = await predict(model, [{ id: "alone", utterances: [video.utterances[2]] }], { padTo: 8 });
    assert.deepEqual(alone.videos[0].utterances[0], got[2]);
  });

  it("a model trained under 'at' ignores a v it is given (restrict), or reads it when asked (as-given), with a warning", async () => {
    const atModel: PredictModel = { ...model, condition: "at" };
    const video = randomVideo("w", 3, 2);
    const res = await predict(atModel, [video]);
    assert.ok(res.videos[0].utterances.every((u) => u.given === "atv" && u.condition === "at"));
    assert.deepEqual(res.warnings, []);
    const without = await predict(atModel, [{ id: "w", utterances: video.utterances.map((u) => ({ id: u.id, features: { a: u.features.a, t: u.features.t } })) }]);
    assert.deepEqual(without.videos[0].utterances.map((u) => u.score), res.videos[0].utterances.map((u) => u.score));
    const asGiven = await predict(atModel, [video], { modalities: "as-given" });
    assert.ok(asGiven.videos[0].utterances.every((u) => u.condition === "atv"));
    assert.equal(asGiven.warnings.length, 1);
    assert.match(asGiven.warnings[0], /3 utterance\(s\) \(first: 'w'\/'w_0'\) ran under condition atv, which includes v/);
    const onlyV = await predict(atModel, [{ id: "w", utterances: [{ id: "u", features: { v: video.utterances[0].features.v } }] }]);
    assert.equal(onlyV.videos[0].utterances[0].condition, "v");
    assert.equal(onlyV.warnings.length, 1);
  });

  it("rejects an utterance without features, a vector of the wrong length, NaN", async () => {
    await assert.rejects(predict(model, [{ id: "x", utterances: [{ id: "u", features: {} }] }], { source: "in.json" }), (e: unknown) =>
      e instanceof ConfigError && /utterance 'u' of video 'x' in in\.json has no features/.test(e.message));
    await assert.rejects(predict(model, [{ id: "x", utterances: [{ id: "u", features: { t: [1, 2, 3] } }] }]), (e: unknown) =>
      e instanceof FeatureDimensionError && /'t' vector has 3 values, the model expects 7/.test(e.message));
    await assert.rejects(predict(model, [{ id: "x", utterances: [{ id: "u", features: { a: [0, 1, NaN, 0, 0] } }] }]), /NaN at position 2/);
  });

  it("classification: probabilities sum to 1 and the predicted class is their arg-max", async () => {
    const shape = tinyShape(4);
    const params = initParams(shape, 5);
    const cls: PredictModel = { params, shape, config: tinyConfig({ dataset: "IEMOCAPFour" }), normalization: { method: "none" }, condition: "atv", task: "classification", stage: 2 };
    const res = await predict(cls, [randomVideo("c", 4, 3)]);
    for (const u of res.videos[0].utterances) {
      assert.equal(u.probabilities!.length, 4);
      close(u.probabilities!.reduce((a, b) => a + b, 0), 1, "Σp");
      assert.equal(u.predictedClass, u.probabilities!.indexOf(Math.max(...u.probabilities!)));
      assert.equal(u.score, undefined);
    }
    tree.dispose(params as never);
  });

  it("a stage-1 model predicts from all three modalities only, without α or w̄", async () => {
    const s1: PredictModel = { ...model, stage: 1, condition: "at" };
    const res = await predict(s1, [randomVideo("s", 3, 4)]);
    assert.ok(res.videos[0].utterances.every((u) => u.condition === "atv" && u.alpha === null && u.headWeights === null && Number.isFinite(u.score)));
    const partial = randomVideo("s", 2, 4);
    delete partial.utterances[1].features.a;
    await assert.rejects(predict(s1, [partial]), (e: unknown) => e instanceof ConfigError && /ended in stage 1/.test(e.message));
  });

  describe("on a tiny synthetic dataset", () => {
    let data: string;
    let raw: Dataset;
    let dsModel: LoadedModel;

    before(async () => {
      data = join(root, "data");
      writeSyntheticDataset(data, { seed: 3, videos: 10, minUtterances: 3, maxUtterances: 9, dims });
      raw = loadDataset({ name: "CMUMOSI", dataDir: data, features: SYNTHETIC_FEATURES });
      const params = initParams(tinyShape(), 8);
      const config = tinyConfig({ dataDir: data, batchSize: 2, condition: "tv" });
      await saveModel(join(root, "ds"), { params, shape: tinyShape(), config, normalization: fitZscore(raw) });
      tree.dispose(params as never);
      dsModel = await loadModel(join(root, "ds"));
    });
    after(() => tree.dispose(dsModel.params as never));

    for (const condition of ["tv", "a"] as const) {
      it(`predict on the pickle layout equals evaluate's predictions (condition ${condition})`, async () => {
        const ev = await evaluate(dsModel, raw, "test", condition);
        assert.equal(ev.condition, condition);
        const paths = featurePaths(data, SYNTHETIC_FEATURES);
        const featureFiles: Partial<PerModality<string>> = {};
        for (const m of availableModalities(condition)) featureFiles[m] = paths[m];
        const input = readPredictPickles({ labelFile: raw.sources.labels, featureFiles, videoIds: splitVideoIds(readLabelFile(raw.sources.labels), "test") });
        assert.deepEqual(input.skipped, []);
        const res = await predict(dsModel, input.videos, { batchSize: dsModel.config.batchSize, padTo: paddedLength(raw), modalities: "as-given" });
        const flat = res.videos.flatMap((v) => v.utterances.map((u) => ({ video: v.id, ...u })));
        assert.equal(flat.length, ev.utterances.length);
        flat.forEach((u, i) => {
          assert.equal(u.video, ev.utterances[i].video);
          assert.equal(u.id, ev.utterances[i].utterance);
          assert.equal(u.condition, condition);
          assert.equal(u.score, ev.utterances[i].output[0], `${u.video}/${u.id}`);
        });
        // The metrics are the field's metrics of exactly these predictions.
        const m = regressionMetrics(flat.map((u) => u.score!), ev.utterances.map((u) => Math.fround(u.label)));
        assert.deepEqual(m, ev.metrics);
      });
    }

    it("evaluate checks the split, the condition and the dataset against the model", async () => {
      await assert.rejects(evaluate(dsModel, raw, "dev" as never), /unknown split 'dev'/);
      await assert.rejects(evaluate(dsModel, raw, "test", "xy" as never), /unknown condition 'xy'/);
      await assert.rejects(evaluate({ ...dsModel, shape: { ...dsModel.shape, dims: { ...dims, t: 8 } } }, raw, "test"), /'t' features have 7 dims/);
    });
  });

  it("reads the JSON input format, and names the file and place of a mistake", () => {
    const path = join(root, "in.json");
    writeFileSync(path, JSON.stringify({ videos: [{ id: "v1", utterances: [{ id: "u1", a: [1, 2, 3, 4, 5] }, { id: "u2", t: [0, 0, 0, 0, 0, 0, 0], v: [1, 1, 1, 1, 1, 1] }] }] }));
    const videos = readPredictJson(path);
    assert.equal(videos[0].utterances[1].id, "u2");
    assert.deepEqual(Object.keys(videos[0].utterances[1].features), ["t", "v"]);
    assert.ok(videos[0].utterances[0].features.a instanceof Float32Array);
    assert.throws(() => parsePredictJson({ videos: [{ id: "v", utterances: [{ id: "u", a: ["x"] }] }] }, "f.json"), (e: unknown) =>
      e instanceof FormatError && /videos\[0\]\.utterances\[0\]\.a is not an array of numbers in input file f\.json/.test(e.message));
    assert.throws(() => parsePredictJson({ videos: [{ id: "v", utterances: [{ id: "u", audio: [1] }] }] }, "f.json"), /unknown key 'audio'/);
    assert.throws(() => parsePredictJson([], "f.json"), /the document is not an object/);
  });
});

