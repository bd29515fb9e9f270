/** `--help` of the binary lists every flag; the flag table agrees with the config layer's. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { OPTION_FLAGS } from "../../src/config/resolve.js";
import { DEMO_FLAGS } from "../../src/cli/commands/demo.js";
import { flagName, normalizeFlagSpelling, TRAIN_FLAGS } from "../../src/cli/flags.js";
import { REPO } from "../helpers/paths.js";
import { runBin } from "./helpers.js";

const RELEASE_FLAGS = [
  "--dataset", "--test_condition", "--epochs", "--stage_epoch", "--lr", "--batch_size", "--D_e", "--drop_rate",
  "--audio-feature", "--text-feature", "--video-feature",
];

describe("dssr --help", () => {
  it("dssr train --help lists the release's flags and ours, exit 0", async () => {
    const r = await runBin(["train", "--help"], REPO);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    for (const f of [...RELEASE_FLAGS, "--condition", "--data-dir", "--label-file", "--seed", "--normalize", "--out", "--quiet", "--fold"]) {
      assert.match(r.stdout, new RegExp(`^ +${f} `, "m"), f);
    }
    assert.match(r.stdout, /MOSI 400, MOSEI 100,\s+IEMOCAP 200/, "preset defaults in the help");
  });

  it("dssr demo --help lists its flags", async () => {
    const r = await runBin(["demo", "--help"], REPO);
    assert.equal(r.code, 0);
    for (const f of DEMO_FLAGS) assert.match(r.stdout, new RegExp(`^ +${f}\\b`, "m"), f);
  });

  it("dssr plot --help names curves and case; each lists its flags", async () => {
    const h = await runBin(["plot", "--help"], REPO);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^ +curves \[options\] <results>/m);
    assert.match(h.stdout, /^ +case \[options\]/m);
    const c = await runBin(["plot", "curves", "--help"], REPO);
    assert.equal(c.code, 0);
    for (const f of ["--out", "--scale", "--quiet"]) assert.match(c.stdout, new RegExp(`^ +${f}\\b`, "m"), f);
    const k = await runBin(["plot", "case", "--help"], REPO);
    assert.equal(k.code, 0);
    for (const f of ["--model", "--data-dir", "--utterances", "--conditions", "--as-given", "--out", "--scale"]) {
      assert.match(k.stdout, new RegExp(`^ +${f}\\b`, "m"), f);
    }
  });

  it("dssr --help names both commands; --version prints the package version", async () => {
    const h = await runBin(["--help"], REPO);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^ +train \[options\]/m);
    assert.match(h.stdout, /^ +demo \[options\]/m);
    const v = await runBin(["--version"], REPO);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe("the flag table", () => {
  it("marks exactly the release's flags as release flags", () => {
    assert.deepEqual(TRAIN_FLAGS.filter((r) => r.release).map(flagName).sort(), [...RELEASE_FLAGS, "--seed"].sort());
  });

  it("has every single flag the config layer names in its messages", () => {
    const names = TRAIN_FLAGS.map(flagName);
    for (const f of Object.values(OPTION_FLAGS).flatMap((s) => s.split("/"))) assert.ok(names.includes(f), f);
  });

  it("accepts - for _ and _ for -, leaving values and unknown flags alone", () => {
    const known = TRAIN_FLAGS.map(flagName);
    assert.deepEqual(
      normalizeFlagSpelling(
        ["--stage-epoch", "3", "--batch-size=8", "--data_dir", "x", "--test-condition", "at", "--d-e", "64", "--bogus", "--", "--stage-epoch"],
        known,
      ),
      ["--stage_epoch", "3", "--batch_size=8", "--data-dir", "x", "--test_condition", "at", "--D_e", "64", "--bogus", "--", "--stage-epoch"],
    );
  });
});
