/**
 * The model artifacts end to end through `bin/dssr.js` on a tiny synthetic dataset (12 videos,
 * D_e 16, 2 epochs, stage 2 from epoch 2, condition at): `dssr train --save-model` writes the model
 * folder; `dssr eval` on it reproduces the test metrics training reported for its last epoch, bit
 * for bit; `dssr predict` from the pickle layout and from JSON writes predictions.json whose
 * scores are evaluate's; errors are one `dssr: …` line.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadModel, MODEL_JSON, WEIGHTS_FILE } from "../../src/checkpoint/model-file.js";
import { loadDataset } from "../../src/data/dataset.js";
import { SYNTHETIC_FEATURES, writeSyntheticDataset } from "../../src/data/synthetic.js";
import { tree } from "../../src/engine.js";
import type { Metrics } from "../../src/eval/types.js";
import { evaluate } from "../../src/predict.js";
import { readResults } from "../../src/report/results.js";
import { listFiles, runBin, SYNTH_FLAGS, tempDir, type BinRun } from "../cli/helpers.js";

describe("dssr train --save-model, dssr eval, dssr predict", () => {
  let root: string;
  let train: BinRun;

  before(async () => {
    root = tempDir("model-cli");
    writeSyntheticDataset(join(root, "data"), { seed: 1, videos: 12, dims: { a: 5, t: 7, v: 6 } });
    train = await runBin(
      [
        "train", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--test_condition", "at",
        "--epochs", "2", "--stage_epoch", "1", "--batch_size", "4", "--D_e", "16", "--seed", "3",
        "--out", "runs/at", "--save-model", "runs/at/model", "--quiet",
      ],
      root,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("train writes the model folder and says where", () => {
    assert.equal(train.stderr, "");
    assert.equal(train.code, 0);
    assert.match(train.stdout, /^model: runs\/at\/model /m);
    // (the training checkpoints beside them are test/cli/train.test.ts's subject)
    const files = listFiles(join(root, "runs")).filter((f) => !f.startsWith("at/checkpoints/"));
    assert.deepEqual(files, ["at/model/model.json", "at/model/model.safetensors", "at/results.json"]);
    const info = JSON.parse(readFileSync(join(root, "runs/at/model", MODEL_JSON), "utf8"));
    assert.equal(info.condition, "at");
    assert.equal(info.stage, 2);
    assert.equal(info.selections.last.epoch, 1);
    assert.equal(info.normalization.method, "zscore");
  });

  it("eval reproduces the test metrics training reported for the last epoch", async () => {
    const run = await runBin(["eval", "--model", "runs/at/model", "--data-dir", "data", "--split", "test", "--out", "ev.json"], root);
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^DSSR eval: CMUMOSI test split, condition at; model runs\/at\/model \(trained under at, weights after epoch 2, stage 2\)$/m);
    const results = await readResults(join(root, "runs/at/results.json"));
    const reported = results.history[results.history.length - 1].test;
    const ev = JSON.parse(readFileSync(join(root, "ev.json"), "utf8")) as { metrics: Metrics; condition: string };
    assert.equal(ev.condition, "at");
    assert.deepEqual(ev.metrics, reported);
  });

  it("predict from the pickle layout writes evaluate's scores, with α and w̄", async () => {
    const run = await runBin(["predict", "--model", "runs/at/model", "--data-dir", "data", "--split", "test", "--out", "pred.json"], root);
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^predicted \d+ utterance\(s\) in \d+ video\(s\) \(conditions: at \d+\); written to pred\.json$/m);
    const doc = JSON.parse(readFileSync(join(root, "pred.json"), "utf8"));
    assert.equal(doc.format, "dssr-predictions/1");
    const model = await loadModel(join(root, "runs/at/model"));
    const raw = loadDataset({ name: "CMUMOSI", dataDir: join(root, "data"), features: SYNTHETIC_FEATURES });
    const ev = await evaluate(model, raw, "test");
    tree.dispose(model.params as never);
    const flat = (doc.videos as { id: string; utterances: { id: string; given: string; condition: string; score: number; alpha: object; headWeights: { a: number[] } }[] }[])
      .flatMap((v) => v.utterances.map((u) => ({ video: v.id, ...u })));
    assert.equal(flat.length, ev.utterances.length);
    flat.forEach((u, i) => {
      assert.equal(`${u.video}/${u.id}`, `${ev.utterances[i].video}/${ev.utterances[i].utterance}`);
      assert.equal(u.given, "atv");
      assert.equal(u.condition, "at"); // the model was trained under at: v is not read
      assert.equal(u.score, ev.utterances[i].output[0]);
      assert.deepEqual(Object.keys(u.alpha), ["a", "t", "v"]);
      assert.equal(u.headWeights.a.length, 4);
    });
  });

  it("predict from JSON, with a modality missing for one utterance", async () => {
    const f = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i + k));
    writeFileSync(join(root, "in.json"), JSON.stringify({
      videos: [{ id: "clip", utterances: [{ id: "u0", a: f(5, 0), t: f(7, 1) }, { id: "u1", t: f(7, 2) }, { id: "u2", a: f(5, 3), t: f(7, 4), v: f(6, 5) }] }],
    }));
    const run = await runBin(["predict", "--model", "runs/at/model", "--input", "in.json", "--out", "p.json"], root);
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    const doc = JSON.parse(readFileSync(join(root, "p.json"), "utf8"));
    const us = doc.videos[0].utterances as { id: string; given: string; condition: string; score: number }[];
    assert.deepEqual(us.map((u) => [u.id, u.given, u.condition]), [["u0", "at", "at"], ["u1", "t", "t"], ["u2", "atv", "at"]]);
    assert.ok(us.every((u) => Number.isFinite(u.score)));
    assert.deepEqual(doc.warnings, []);
  });

  it("errors are one line naming the problem", async () => {
    const noModel = await runBin(["eval", "--model", "runs", "--data-dir", "data"], root);
    assert.equal(noModel.code, 1);
    assert.match(noModel.stderr, /^dssr: cannot read model file runs\/model\.json: ENOENT .*\n$/);
    writeFileSync(join(root, "runs/at/model", WEIGHTS_FILE), readFileSync(join(root, "runs/at/model", WEIGHTS_FILE)).subarray(0, 1000));
    const truncated = await runBin(["predict", "--model", "runs/at/model", "--input", "in.json", "--out", "p2.json"], root);
    assert.equal(truncated.code, 1);
    assert.match(truncated.stderr, /^dssr: runs\/at\/model\/model\.safetensors is not a valid safetensors file: .*truncated.*\n$/);
    const both = await runBin(["predict", "--model", "runs/at/model", "--out", "p3.json"], root);
    assert.match(both.stderr, /^dssr: give the input as --input FILE\.json or as --data-dir DIR/);
  });
});
