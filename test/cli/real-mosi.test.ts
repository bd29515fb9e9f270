/**
 * End to end on the real CMU-MOSI files in ../shared/data: `dssr train --save-model` for a few
 * epochs (small batches and hidden size so it stays quick) and the results JSON it wrote; then the
 * saved model: `dssr eval` gives training's last-epoch test metrics, `dssr predict` on the 752 test
 * utterances gives evaluate's numbers, and an utterance given without a modality gets the model's
 * output under the condition of what it has.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DATA } from "../helpers/paths.js";
import { runBin, tempDir } from "./helpers.js";
import type { ResultsJson } from "../../src/report/results.js";
import { loadModel } from "../../src/checkpoint/model-file.js";
import { loadDataset } from "../../src/data/dataset.js";
import { tree } from "../../src/engine.js";
import type { Metrics } from "../../src/eval/types.js";
import { evaluate, predict } from "../../src/predict.js";

const out = join(tempDir("mosi"), "run");
const FEATURES = { audio: "bclstm-opensmile-UTT", text: "bclstm-textcnn-UTT", video: "bclstm-3dcnn-UTT" };
const FEATURE_FLAGS = ["--audio-feature", FEATURES.audio, "--text-feature", FEATURES.text, "--video-feature", FEATURES.video];

test("dssr train on real CMU-MOSI (bc-LSTM features, condition at): results.json", async () => {
  const r = await runBin(
    [
      "train", "--dataset", "CMUMOSI", "--data-dir", join(DATA, "CMUMOSI"), ...FEATURE_FLAGS,
      "--test_condition", "at", "--epochs", "3", "--stage_epoch", "2", "--batch_size", "16", "--D_e", "32",
      "--lr", "1e-3", "--out", out, "--save-model", join(out, "model"),
    ],
    process.cwd(),
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsJson;
  assert.equal(doc.format, "dssr-results/1");
  assert.equal(doc.config.condition, "at");
  assert.equal(doc.config.normalize, "zscore");
  // The default label file's speaker-independent split (../shared/data/README.md).
  assert.deepEqual(doc.dataset.videos, { train: 53, val: 9, test: 31 });
  assert.deepEqual(doc.dataset.utterances, { train: 1252, val: 195, test: 752 });
  assert.deepEqual(doc.dataset.dims, { a: 73, t: 100, v: 100 });
  assert.deepEqual(doc.history.map((h) => h.stage), [1, 1, 2]);
  for (const h of doc.history) {
    assert.equal(h.test.kind, "regression");
    assert.equal(h.test.n, 752);
    if (h.test.kind === "regression") {
      assert.equal(h.test.nNonZero, 721); // test labels ≠ 0 (python3 pickle count)
      for (const k of ["acc2", "f1", "mae", "corr", "acc7"] as const) assert.ok(Number.isFinite(h.test[k]), `${k} finite`);
      assert.ok(h.test.acc2 > 0.3 && h.test.acc2 < 1);
    }
    assert.ok(h.val !== null && h.val.n === 195);
    assert.ok(Number.isFinite(h.trainLoss.total) && h.trainLoss.total > 0);
    assert.equal(h.trainLoss.dcl === null, h.stage === 2);
    assert.equal(h.trainLoss.rec === null, h.stage === 1);
  }
  // The paper protocol picks among stage-2 epochs only; here there is one.
  assert.equal(doc.selections.paper.epoch, 2);
  assert.equal(doc.selections.last.epoch, 2);
  assert.ok(doc.peakRssMB > 0);
  assert.match(r.stdout, /paper protocol/);
});

test("the saved real-MOSI model: dssr eval = training's last epoch; dssr predict = evaluate; a missing modality = that condition", async () => {
  const model = join(out, "model");
  const mosi = join(DATA, "CMUMOSI");
  const doc = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as ResultsJson;

  const ev = await runBin(["eval", "--model", model, "--data-dir", mosi, ...FEATURE_FLAGS, "--split", "test", "--out", join(out, "eval.json")], process.cwd());
  assert.equal(ev.code, 0, ev.stderr);
  const evDoc = JSON.parse(readFileSync(join(out, "eval.json"), "utf8")) as { metrics: Metrics };
  assert.deepEqual(evDoc.metrics, doc.history[doc.history.length - 1].test);

  const pr = await runBin(["predict", "--model", model, "--data-dir", mosi, ...FEATURE_FLAGS, "--split", "test", "--out", join(out, "pred.json")], process.cwd());
  assert.equal(pr.code, 0, pr.stderr);
  const pred = JSON.parse(readFileSync(join(out, "pred.json"), "utf8")) as {
    videos: { id: string; utterances: { id: string; condition: string; score: number; alpha: Record<string, number> }[] }[];
  };
  const flat = pred.videos.flatMap((v) => v.utterances.map((u) => ({ video: v.id, ...u })));
  const loaded = await loadModel(model);
  try {
    const raw = loadDataset({ name: "CMUMOSI", dataDir: mosi, features: FEATURES });
    const byEval = await evaluate(loaded, raw, "test");
    assert.equal(flat.length, 752);
    assert.equal(byEval.utterances.length, 752);
    flat.forEach((u, i) => {
      assert.equal(`${u.video}/${u.id}`, `${byEval.utterances[i].video}/${byEval.utterances[i].utterance}`);
      assert.equal(u.condition, "at");
      assert.equal(u.score, byEval.utterances[i].output[0]);
      assert.ok(Math.abs(u.alpha.a + u.alpha.t + u.alpha.v - 1) < 1e-5);
    });
    assert.deepEqual(byEval.metrics, evDoc.metrics);

    // Three real test videos given with text only: the model's output under condition t.
    const underT = await evaluate(loaded, raw, "test", "t");
    const ids = raw.splits.test.slice(0, 3);
    const videos = ids.map((id) => ({
      id,
      utterances: raw.videos.get(id)!.utteranceIds.map((u, j) => ({
        id: u,
        features: { t: raw.videos.get(id)!.features.t.subarray(j * raw.dims.t, (j + 1) * raw.dims.t) },
      })),
    }));
    const got = await predict(loaded, videos);
    const want = underT.utterances.filter((u) => ids.includes(u.video));
    const gotFlat = got.videos.flatMap((v) => v.utterances.map((u) => ({ video: v.id, ...u })));
    assert.equal(gotFlat.length, want.length);
    gotFlat.forEach((u, i) => {
      assert.equal(u.id, want[i].utterance);
      assert.equal(u.condition, "t");
      assert.ok(Math.abs(u.score! - want[i].output[0]) < 1e-5, `${u.id}: ${u.score} vs ${want[i].output[0]}`);
    });
  } finally {
    tree.dispose(loaded.params as never);
  }
});
