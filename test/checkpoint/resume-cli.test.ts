/**
 * Resume after a real crash: `dssr train --out DIR` is killed with SIGKILL once it has printed an
 * epoch in the middle of stage 1, and again in the middle of stage 2; `dssr train --resume DIR`
 * then finishes each run, and its results.json has exactly the uninterrupted run's epochs (every
 * loss and metric, the selected epochs) — only the wall times differ.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeSyntheticDataset } from "../../src/data/synthetic.js";
import { readResults, type ResultsJson } from "../../src/report/results.js";
import { runBin, runBinUntil, SYNTH_FLAGS, tempDir, type BinRun, type KilledRun } from "../cli/helpers.js";

const RUN = [
  "train", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--condition", "tv",
  "--epochs", "6", "--stage_epoch", "3", "--batch_size", "4", "--D_e", "16", "--seed", "11",
] as const;

/** A results document without what legitimately differs between two runs (times, paths). */
function comparable(doc: ResultsJson) {
  return {
    config: { ...doc.config, out: null },
    history: doc.history.map(({ seconds: _s, ...r }) => r),
    selections: doc.selections,
  };
}

describe("dssr train --resume after kill -9", () => {
  let root: string;
  let reference: ResultsJson;
  const killed: Record<string, KilledRun> = {};
  const resumed: Record<string, BinRun> = {};
  const cases = { "stage 1": /^epoch 2\/6 stage 1 /m, "stage 2": /^epoch 5\/6 stage 2 /m } as const;

  before(async () => {
    root = tempDir("resume-cli");
    writeSyntheticDataset(join(root, "data"), { seed: 3, videos: 14, dims: { a: 5, t: 7, v: 6 } });
    const ref = await runBin([...RUN, "--out", "ref"], root);
    assert.equal(ref.code, 0, ref.stderr);
    reference = await readResults(join(root, "ref", "results.json"));
    for (const [name, pattern] of Object.entries(cases)) {
      const out = name.replace(" ", "");
      killed[name] = await runBinUntil([...RUN, "--out", out], root, pattern);
      killed[name].stdout += existsSync(join(root, out, "results.json")) ? "\n(results.json exists)" : "";
      resumed[name] = await runBin(["train", "--resume", out], root);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const name of Object.keys(cases)) {
    it(`a kill in ${name} ends the run before its results are written`, () => {
      assert.equal(killed[name].signal, "SIGKILL", killed[name].stderr);
      assert.doesNotMatch(killed[name].stdout, /^epoch 6\/6 /m);
      assert.doesNotMatch(killed[name].stdout, /results\.json exists/);
    });

    it(`resuming the run killed in ${name} reaches the uninterrupted run's results`, async () => {
      const r = resumed[name];
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, /^resuming from .*checkpoints.* after epoch [1-5]$/m);
      assert.match(r.stdout, /^epoch 6\/6 stage 2 /m);
      const doc = await readResults(join(root, name.replace(" ", ""), "results.json"));
      assert.equal(doc.history.length, 6);
      assert.deepEqual(comparable(doc), comparable(reference));
    });
  }

  it("--resume refuses a flag that changes the run, naming the checkpoint folder", async () => {
    const r = await runBin(["train", "--resume", "ref", "--lr", "0.01"], root);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^dssr: --resume: the flags change the run in .*ref\/checkpoints \(lr /);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("--resume on a folder without checkpoints says so", async () => {
    const r = await runBin(["train", "--resume", "data"], root);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^dssr: --resume: no checkpoint in .*data\/checkpoints/);
  });
});
