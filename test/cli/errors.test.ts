/**
 * Bad input to `dssr train`: one line on stderr (`dssr: …`, no stack), exit code 1, nothing on
 * stdout, and no results.json (nor a temporary of it) in --out. The dataset-content cases build a
 * tiny synthetic dataset and break one feature file.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { featurePaths } from "../../src/data/dataset.js";
import { readFeatureFile } from "../../src/data/features.js";
import { tuple, writePickle, type PickleIn } from "../../src/data/pickle-writer.js";
import { SYNTHETIC_FEATURES, writeSyntheticDataset } from "../../src/data/synthetic.js";
import { listFiles, runBin, SYNTH_FLAGS, tempDir } from "./helpers.js";

let root: string;
let good: string;

/** A copy of the good dataset whose audio feature file is rewritten by `edit`. */
function brokenCopy(name: string, edit: (feats: Map<string, Float32Array>) => void): string {
  const dir = join(root, name);
  cpSync(good, dir, { recursive: true });
  const path = featurePaths(dir, SYNTHETIC_FEATURES).a;
  const file = readFeatureFile(path);
  const feats = new Map(file.host);
  edit(feats);
  writePickle(path, tuple(feats as Map<PickleIn, PickleIn>, BigInt(file.dim)));
  return dir;
}

/**
 * `afterLoad`: the failure comes from reading the data, after the resolved config was printed;
 * otherwise it comes from checking options and paths, before anything is printed.
 */
async function expectOneLineError(args: string[], pattern: RegExp, afterLoad = false): Promise<void> {
  const out = join(root, "out");
  rmSync(out, { recursive: true, force: true });
  const r = await runBin([...args, "--out", out], root);
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  if (afterLoad) {
    assert.match(r.stdout, /^config:\n/);
    assert.doesNotMatch(r.stdout, /^(epoch |results:)/m, "no epoch ran, no results");
  } else {
    assert.equal(r.stdout, "", "nothing on stdout");
  }
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.stderr}`);
  assert.match(lines[0], /^dssr: /);
  assert.doesNotMatch(lines[0], /\bat .*\.ts:\d+/, "no stack frame");
  assert.match(lines[0], pattern);
  const left = existsSync(out) ? listFiles(out) : [];
  assert.deepEqual(left, [], "no results.json or temporary file in --out");
}

describe("dssr train: bad input is one line and a non-zero exit", { concurrency: 4 }, () => {
  before(() => {
    root = tempDir("errors");
    good = join(root, "good");
    writeSyntheticDataset(good, { seed: 3, videos: 12 });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const base = () => ["train", "--dataset", "CMUMOSI", "--data-dir", good, ...SYNTH_FLAGS, "--epochs", "1"];

  it("unknown dataset lists the valid ones", () =>
    expectOneLineError(
      ["train", "--dataset", "CMUMOSX", "--data-dir", good],
      /unknown dataset 'CMUMOSX'; expected one of CMUMOSI, CMUMOSEI, IEMOCAPFour, IEMOCAPSix/,
    ));

  it("unknown condition lists a, t, v, at, av, tv, atv", () =>
    expectOneLineError([...base(), "--test_condition", "ta"], /unknown condition 'ta'.*a, t, v, at, av, tv, atv/));

  it("the --condition alias is checked the same way", () =>
    expectOneLineError([...base(), "--condition", "x"], /unknown condition 'x'/));

  it("a missing data directory names it", () =>
    expectOneLineError(
      ["train", "--dataset", "CMUMOSI", "--data-dir", join(root, "nowhere")],
      new RegExp(`data directory not found: ${join(root, "nowhere")}`),
    ));

  it("no --data-dir at all says it is required", () =>
    expectOneLineError(["train", "--dataset", "CMUMOSI"], /--data-dir/));

  it("a missing label file names the path", () =>
    expectOneLineError(
      [...base(), "--label-file", join(good, "typo.pkl")],
      new RegExp(`label file not found: ${join(good, "typo.pkl")}`),
    ));

  it("a typo in a feature folder names the file and lists the folders there", () =>
    expectOneLineError(
      [...base(), "--text-feature", "synth-txet"],
      /text feature file not found: .*synth-txet\/text\.pkl .*synth-audio, synth-text, synth-video/,
    ));

  it("a feature file missing an utterance id names the id and the file", async () => {
    const dir = brokenCopy("missing-id", (f) => f.delete("synth0002_3"));
    await expectOneLineError(
      ["train", "--dataset", "CMUMOSI", "--data-dir", dir, ...SYNTH_FLAGS, "--epochs", "1"],
      /synth-audio\/audio\.pkl lacks utterance 'synth0002_3'/,
      true,
    );
  });

  it("a NaN feature names the utterance and the file", async () => {
    const dir = brokenCopy("nan", (f) => {
      const v = Float32Array.from(f.get("synth0001_2")!);
      v[5] = NaN;
      f.set("synth0001_2", v);
    });
    await expectOneLineError(
      ["train", "--dataset", "CMUMOSI", "--data-dir", dir, ...SYNTH_FLAGS, "--epochs", "1"],
      /utterance 'synth0001_2' has NaN at position 5 .*audio\.pkl/,
      true,
    );
  });

  it("a non-numeric --epochs names the flag", () =>
    expectOneLineError([...base().slice(0, -2), "--epochs", "ten"], /--epochs expects an integer, got 'ten'/));

  it("--stage_epoch beyond --epochs is refused", () =>
    expectOneLineError([...base(), "--stage_epoch", "3"], /stageEpoch \(--stage_epoch\) must be an integer in 0\.\.epochs \(1\), got 3/));

  it("an out-of-range learning rate is refused", () =>
    expectOneLineError([...base(), "--lr", "0"], /lr \(--lr\) must be a number in \(0, 1\], got 0/));

  it("an unknown normalisation is refused", () =>
    expectOneLineError([...base(), "--normalize", "minmax"], /unknown normalize 'minmax'.*zscore or none/));

  it("an unknown flag is one line too", () =>
    expectOneLineError([...base(), "--bogus", "1"], /unknown option '--bogus'/));

  it("--fold on a sentiment dataset is refused", () =>
    expectOneLineError([...base(), "--fold", "1"], /--fold applies to IEMOCAP/, true));
});
