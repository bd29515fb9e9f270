/**
 * One short end-to-end run (1 stage-1 + 1 stage-2 epoch, tiny sizes) per dataset kind on generated
 * data in the release's layout (data/synthetic.ts), through the real readers: CMU-MOSEI (MOSI's
 * layout under MOSEI's file names; MOSI itself: test/cli/train.test.ts), IEMOCAP-4 on features
 * keyed by the real label file's 5,531 utterance ids (leave-one-session-out fold 1 with the
 * held-out validation dialogues), and IEMOCAP-6 (six classes through the DCL and the metrics) by
 * the CLI with --val-fraction.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { resolveTrainConfig } from "../../src/config/resolve.js";
import { holdOutValidation, iemocapSessionFolds, loadDataset, withSplits } from "../../src/data/dataset.js";
import { SYNTHETIC_FEATURES, writeSyntheticDataset } from "../../src/data/synthetic.js";
import type { EpochRecord } from "../../src/eval/types.js";
import { readResults } from "../../src/report/results.js";
import { runTrain } from "../../src/run.js";
import { runBin, SYNTH_FLAGS, tempDir } from "../cli/helpers.js";
import { DATA } from "../helpers/paths.js";

const root = tempDir("dssr-datasets");
after(() => rmSync(root, { recursive: true, force: true }));

const TINY = { epochs: 2, stageEpoch: 1, hidden: 8, heads: 4, lr: 1e-3, features: SYNTHETIC_FEATURES } as const;

function checkHistory(history: readonly EpochRecord[], kind: "regression" | "classification"): void {
  assert.deepEqual(history.map((r) => r.stage), [1, 2]);
  for (const r of history) {
    assert.equal(r.test.kind, kind);
    assert.ok(r.val !== null && r.val.kind === kind, `epoch ${r.epoch + 1} has validation metrics`);
    assert.ok(r.val.n > 0 && r.test.n > 0);
    assert.ok(Number.isFinite(r.trainLoss.total));
  }
}

describe("CMU-MOSEI", () => {
  it("reads CMUMOSEI_features_raw_2way.pkl and uses its validation split", async () => {
    const dir = join(root, "mosei");
    const s = writeSyntheticDataset(dir, { seed: 2, dataset: "CMUMOSEI", videos: 16 });
    assert.equal(s.labelFile, join(dir, "CMUMOSEI_features_raw_2way.pkl"));
    assert.ok(existsSync(s.labelFile));
    const config = resolveTrainConfig({ dataset: "CMUMOSEI", dataDir: dir, batchSize: 4, ...TINY });
    assert.equal(config.valFraction, null);
    const { result, results } = await runTrain(config);
    assert.equal(result.dataset.name, "CMUMOSEI");
    assert.deepEqual(result.dataset.splits, s.splits, "the label file's split, validation included");
    checkHistory(result.history, "regression");
    assert.match(result.selections.validation.description, /^validation selection: highest validation F1 over stage-2 epochs 2/);
    assert.equal(results.dataset.videos.val, s.splits.val.length);
  });
});

describe("IEMOCAP-4 on the real label file's utterance ids", () => {
  it("fold 1: 111 training, 12 held-out validation and 28 test dialogues; validation metrics every epoch; validation-selected", async () => {
    const dir = join(root, "iemocap4");
    const labelFile = join(DATA, "IEMOCAP", "IEMOCAP_features_raw_4way.pkl");
    const s = writeSyntheticDataset(dir, { seed: 3, dataset: "IEMOCAPFour", labelFile, dims: { a: 6, t: 8, v: 7 } });
    assert.equal(s.utterances, 5531);
    const config = resolveTrainConfig({ dataset: "IEMOCAPFour", dataDir: dir, labelFile, batchSize: 16, ...TINY });
    assert.equal(config.valFraction, 0.1);
    const { result, results } = await runTrain(config, { fold: 1 });
    assert.equal(result.dataset.nClasses, 4);
    assert.deepEqual(results.dataset.videos, { train: 111, val: 12, test: 28 });
    assert.equal(results.fold, 1);
    // The split is the one holdOutValidation draws for (seed 66, fold 1).
    const raw = loadDataset({ name: "IEMOCAPFour", dataDir: dir, labelFile, features: SYNTHETIC_FEATURES });
    const expected = holdOutValidation(withSplits(raw, iemocapSessionFolds(raw)[0]), 0.1, 66, 1).splits;
    assert.deepEqual(result.dataset.splits, expected);
    checkHistory(result.history, "classification");
    assert.match(result.selections.validation.description, /^validation selection: highest validation accuracy \(WA\) over stage-2 epochs 2/);
  });
});

describe("IEMOCAP-6, generated dialogues, by the CLI", () => {
  it("six classes through the DCL and the metrics; --val-fraction 0.25 of fold 5's training dialogues", async () => {
    const dir = join(root, "iemocap6");
    const s = writeSyntheticDataset(dir, { seed: 4, dataset: "IEMOCAPSix", videos: 20, minUtterances: 4, maxUtterances: 9 });
    assert.equal(s.labelFile, join(dir, "IEMOCAP_features_raw_6way.pkl"));
    const out = join(root, "iemocap6-run");
    const r = await runBin([
      "train", "--dataset", "IEMOCAPSix", "--data-dir", dir, ...SYNTH_FLAGS, "--fold", "5", "--val-fraction", "0.25",
      "--epochs", "2", "--stage_epoch", "1", "--D_e", "8", "--heads", "4", "--batch_size", "4", "--lr", "1e-3",
      "--out", out, "--no-checkpoints",
    ], root);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valFraction\s+0\.25 \(of each session's training dialogues held out for validation\)/);
    const doc = await readResults(join(out, "results.json"));
    assert.equal(doc.config.valFraction, 0.25);
    assert.equal(doc.dataset.nClasses, 6);
    // Sessions 1-4 hold 4 dialogues each (20 round-robin): one of each held out.
    assert.deepEqual(doc.dataset.videos, { train: 12, val: 4, test: 4 });
    checkHistory(doc.history, "classification");
    assert.equal(doc.selections.validation.val?.kind, "classification");
  });

  it("--val-fraction is refused for MOSI/MOSEI, before any file is read", async () => {
    const r = await runBin(["train", "--dataset", "CMUMOSEI", "--data-dir", join(root, "nowhere"), "--val-fraction", "0.1"], root);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /valFraction \(--val-fraction\) applies to IEMOCAP, which has no validation split; CMUMOSEI uses its label file's validation split/);
  });
});
