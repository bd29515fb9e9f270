/**
 * `dssr train` end to end on a tiny synthetic dataset (24 videos, 2 epochs, stage 2 from epoch 2,
 * batches of 8): the printed progress, and results.json read back through the checked reader.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeSyntheticDataset } from "../../src/data/synthetic.js";
import { SELECTION_RULES } from "../../src/eval/types.js";
import { readResults, RESULTS_FORMAT, type ResultsJson } from "../../src/report/results.js";
import { listFiles, runBin, SYNTH_FLAGS, tempDir, type BinRun } from "./helpers.js";

describe("dssr train on a tiny synthetic dataset", () => {
  let root: string;
  let run: BinRun;
  let doc: ResultsJson;

  before(async () => {
    root = tempDir("train");
    writeSyntheticDataset(join(root, "data"), { seed: 1, videos: 24 });
    // Release spellings (--stage_epoch, --batch_size) and the other ones (--stage-epoch would do too).
    run = await runBin(
      [
        "train", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS,
        "--test_condition", "at", "--epochs", "2", "--stage_epoch", "1", "--batch_size", "8", "--D_e", "32",
        "--seed", "7", "--out", "runs/at",
      ],
      root,
    );
    if (run.code === 0) doc = await readResults(join(root, "runs", "at", "results.json"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("exits 0 with nothing on stderr", () => {
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
  });

  it("prints the resolved config, one line per epoch, the results block and where results.json is", () => {
    const out = run.stdout;
    assert.match(out, /^config:\n/);
    assert.match(out, /^ {2}condition +at$/m);
    assert.match(out, /^ {2}hidden \(D_e\) +32$/m);
    assert.match(out, /^data: videos\/utterances train \d+\/\d+, val \d+\/\d+, test \d+\/\d+/m);
    const epochLines = out.split("\n").filter((l) => l.startsWith("epoch "));
    assert.equal(epochLines.length, 2);
    assert.match(epochLines[0], /^epoch 1\/2 stage 1 .* dcl /);
    assert.match(epochLines[1], /^epoch 2\/2 stage 2 .* rec /);
    assert.match(out, /^DSSR results: CMUMOSI, condition at, seed 7, 2 epochs/m);
    for (const rule of SELECTION_RULES) assert.match(out, new RegExp(`^${rule} +2 `, "m"));
    assert.match(out, new RegExp(`^results: ${join(root, "runs", "at", "results.json")}$`, "m"));
  });

  it("writes results.json and the latest checkpoint of each stage (no temporaries) in --out", () => {
    assert.deepEqual(listFiles(join(root, "runs")), [
      "at/checkpoints/stage1/checkpoint.json",
      "at/checkpoints/stage1/state-0001.safetensors",
      "at/checkpoints/stage2-at/checkpoint.json",
      "at/checkpoints/stage2-at/state-0002.safetensors",
      "at/results.json",
    ]);
  });

  it("results.json holds the resolved config, the data summary and two epochs", () => {
    assert.equal(doc.format, RESULTS_FORMAT);
    assert.equal(doc.config.condition, "at");
    assert.equal(doc.config.epochs, 2);
    assert.equal(doc.config.stageEpoch, 1);
    assert.equal(doc.config.batchSize, 8);
    assert.equal(doc.config.hidden, 32);
    assert.equal(doc.config.seed, 7);
    assert.equal(doc.config.lr, 2e-4, "the CMUMOSI preset");
    assert.equal(doc.config.dataDir, join(root, "data"), "paths are stored absolute");
    assert.equal(doc.dataset.name, "CMUMOSI");
    assert.equal(doc.dataset.videos.train + doc.dataset.videos.val + doc.dataset.videos.test, 24);
    assert.deepEqual(doc.history.map((r) => r.stage), [1, 2]);
    assert.deepEqual(doc.history.map((r) => r.epoch), [0, 1]);
    assert.equal(doc.fold, undefined);
  });

  it("every metric and loss is finite, and each selection names a stage-2 epoch", () => {
    for (const r of doc.history) {
      assert.ok(r.test.kind === "regression" && r.val !== null && r.val.kind === "regression");
      for (const m of [r.test, r.val]) {
        for (const k of ["acc2", "f1", "mae", "corr", "acc2Has0", "f1Has0", "acc7"] as const) {
          assert.ok(Number.isFinite(m[k]), `epoch ${r.epoch} ${k} = ${m[k]}`);
        }
        assert.ok(m.acc2 >= 0 && m.acc2 <= 1 && m.mae >= 0);
      }
      assert.ok(Number.isFinite(r.trainLoss.total) && r.trainLoss.total > 0);
    }
    assert.ok(doc.history[0].trainLoss.dcl !== null && doc.history[0].trainLoss.rec === null);
    assert.ok(doc.history[1].trainLoss.rec !== null && doc.history[1].trainLoss.dcl === null);
    for (const rule of SELECTION_RULES) {
      assert.equal(doc.selections[rule].rule, rule);
      assert.equal(doc.selections[rule].epoch, 1);
      assert.deepEqual(doc.selections[rule].test, doc.history[1].test);
    }
  });

  it("records timings and peak memory", () => {
    assert.ok(doc.timings.stage1SecondsPerEpoch! > 0 && doc.timings.stage2SecondsPerEpoch! > 0);
    assert.ok(doc.timings.totalSeconds >= doc.timings.stage1SecondsPerEpoch! + doc.timings.stage2SecondsPerEpoch!);
    assert.ok(doc.peakRssMB > 10 && doc.peakRssMB < 64 * 1024);
  });
});
