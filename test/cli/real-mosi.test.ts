/**
 * End to end on the real CMU-MOSI files in ../shared/data: `dssr train` for a few epochs (small
 * batches and hidden size so it stays quick), then the results JSON it wrote.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DATA } from "../helpers/paths.js";
import { runBin, tempDir } from "./helpers.js";
import type { ResultsJson } from "../../src/report/results.js";

test("dssr train on real CMU-MOSI (bc-LSTM features, condition at): results.json", async () => {
  const out = join(tempDir("mosi"), "run");
  const r = await runBin(
    [
      "train", "--dataset", "CMUMOSI", "--data-dir", join(DATA, "CMUMOSI"),
      "--audio-feature", "bclstm-opensmile-UTT", "--text-feature", "bclstm-textcnn-UTT", "--video-feature", "bclstm-3dcnn-UTT",
      "--test_condition", "at", "--epochs", "3", "--stage_epoch", "2", "--batch_size", "16", "--D_e", "32",
      "--lr", "1e-3", "--out", out,
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
