/** --preset and --config: the release's run scripts, config files, and the layering of spec §2.5's defaults. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { layeredOptions } from "../../src/cli/commands/train.js";
import { mergeOptionLayers, presetLayer, readConfigFile, runPreset } from "../../src/config/layers.js";
import { RUN_PRESETS } from "../../src/config/presets.js";
import { resolveTrainConfig } from "../../src/config/resolve.js";
import { ConfigError, FileError } from "../../src/errors.js";
import { mosiConfig } from "../eval/records.js";
import { REPO } from "../helpers/paths.js";
import { runBin } from "../cli/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "dssr-test-presets-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}

const ALL7 = ["a", "t", "v", "av", "at", "tv", "atv"];

describe("presets: the release's run scripts (spec §2.5)", () => {
  it("mosi, mosei, iemocap4 hold the scripts' schedules and common settings", () => {
    const common = { dropout: 0.5, hidden: 128, seed: 66, normalize: "none", conditions: ALL7 };
    assert.deepEqual({ ...RUN_PRESETS.mosi }, { dataset: "CMUMOSI", epochs: 400, stageEpoch: 200, lr: 2e-4, batchSize: 32, ...common });
    assert.deepEqual({ ...RUN_PRESETS.mosei }, { dataset: "CMUMOSEI", epochs: 100, stageEpoch: 50, lr: 5e-5, batchSize: 32, ...common });
    // valFraction 0: the release trains on every training dialogue (no held-out validation split).
    assert.deepEqual({ ...RUN_PRESETS.iemocap4 }, { dataset: "IEMOCAPFour", epochs: 200, stageEpoch: 100, lr: 2.5e-4, batchSize: 16, ...common, valFraction: 0 });
  });

  it("a preset alone resolves to the script's run, normalize none", () => {
    const c = resolveTrainConfig({ ...mergeOptionLayers([presetLayer("iemocap4")]), dataset: "IEMOCAPFour", dataDir: "/d" });
    assert.deepEqual(
      [c.dataset, c.epochs, c.stageEpoch, c.lr, c.batchSize, c.dropout, c.hidden, c.seed, c.normalize, c.valFraction],
      ["IEMOCAPFour", 200, 100, 2.5e-4, 16, 0.5, 128, 66, "none", 0],
    );
    // A flag (the top layer) overrides the preset's 0.
    const flags = { source: "the command line", options: { valFraction: 0.1 } };
    assert.equal(resolveTrainConfig({ ...mergeOptionLayers([presetLayer("iemocap4"), flags]), dataset: "IEMOCAPFour", dataDir: "/d" }).valFraction, 0.1);
  });

  it("an unknown preset is a ConfigError listing the names", () => {
    assert.throws(() => runPreset("mosi2"), (e: unknown) => e instanceof ConfigError && /unknown preset 'mosi2'.*mosi, mosei, iemocap4/.test(e.message));
  });
});

describe("layering: dataset defaults < preset < config file < flags", () => {
  it("each layer overrides the one below, key by key", () => {
    const file = configFile("layers.json", { lr: 1e-3, batchSize: 8, hidden: 64, features: { audio: "my-audio" } });
    const opts = layeredOptions({ preset: "mosi", config: file, dataDir: "/data/mosi", batch_size: 4, textFeature: "my-text" });
    const c = resolveTrainConfig({ ...opts, out: null });
    assert.equal(c.dataset, "CMUMOSI"); // preset
    assert.equal(c.epochs, 400); // preset
    assert.equal(c.stageEpoch, 200); // preset
    assert.equal(c.normalize, "none"); // preset
    assert.equal(c.lr, 1e-3); // config file over preset
    assert.equal(c.hidden, 64); // config file
    assert.equal(c.batchSize, 4); // flag over config file
    assert.equal(c.weightDecay, 1e-5); // common default: no layer sets it
    assert.deepEqual(c.features, { audio: "my-audio", text: "my-text", video: "manet-UTT" });
  });

  it("without a preset, the dataset defaults (z-score) stay", () => {
    const c = resolveTrainConfig({ ...layeredOptions({ dataset: "CMUMOSEI", dataDir: "/d" }), out: null });
    assert.deepEqual([c.epochs, c.stageEpoch, c.lr, c.normalize], [100, 50, 5e-5, "zscore"]);
  });

  it("a layer that sets epochs but not stage_epoch halves them, rather than keeping a lower layer's stage_epoch", () => {
    const c = resolveTrainConfig({ ...layeredOptions({ preset: "mosi", dataDir: "/d", epochs: 20 }), out: null });
    assert.deepEqual([c.epochs, c.stageEpoch], [20, 10]);
    const file = configFile("epochs.json", { epochs: 30, stageEpoch: 5 });
    const d = resolveTrainConfig({ ...layeredOptions({ preset: "mosi", config: file, dataDir: "/d" }), out: null });
    assert.deepEqual([d.epochs, d.stageEpoch], [30, 5]);
  });

  it("a preset's dataset cannot be overridden by another dataset", () => {
    assert.throws(
      () => layeredOptions({ preset: "mosi", dataset: "CMUMOSEI", dataDir: "/d" }),
      (e: unknown) => e instanceof ConfigError && /preset mosi is for CMUMOSI, but the command line sets dataset 'CMUMOSEI'/.test(e.message),
    );
    assert.equal(layeredOptions({ preset: "mosi", dataset: "CMUMOSI", dataDir: "/d" }).dataset, "CMUMOSI");
  });
});

describe("config files", () => {
  it("accept a results.json's config; relative paths are taken from the file's folder", () => {
    const whole = readConfigFile(configFile("whole.json", mosiConfig));
    assert.deepEqual(whole.options, mosiConfig);
    const rel = readConfigFile(configFile("rel.json", { dataDir: "data/mosi", labelFile: "l.pkl", out: "runs/x" }));
    assert.deepEqual(rel.options, { dataDir: join(dir, "data/mosi"), labelFile: join(dir, "l.pkl"), out: join(dir, "runs/x") });
  });

  const refusals: [string, unknown, RegExp][] = [
    ["unknown.json", { lr: 1e-3, learning_rate: 1 }, /unknown key 'learning_rate' in config file .*unknown\.json/],
    ["subkey.json", { features: { audio: "x", sound: "y" } }, /unknown key 'features\.sound' in config file .*subkey\.json/],
    ["type.json", { epochs: "400" }, /key 'epochs' in config file .*type\.json must be a number, got string "400"/],
    ["array.json", [1, 2], /config file .*array\.json must hold a JSON object of training options, got an array/],
    ["bad.json", "{ lr: 1 }", /config file .*bad\.json is not valid JSON/],
  ];
  for (const [name, content, message] of refusals) {
    it(`refuse ${name}: ConfigError naming the key and the file`, () => {
      const p = configFile(name, content);
      assert.throws(() => readConfigFile(p), (e: unknown) => e instanceof ConfigError && message.test(e.message) && e.file === p);
    });
  }

  it("a missing file is a FileError naming it", () => {
    assert.throws(() => readConfigFile(join(dir, "nope.json")), (e: unknown) => e instanceof FileError && /cannot read config file .*nope\.json \(--config\): ENOENT/.test(e.message));
  });

  it("dssr train --config with an unknown key fails in one line, exit 1", async () => {
    const p = configFile("cli.json", { dataset: "CMUMOSI", dataDir: "/d", bogus: 1 });
    const r = await runBin(["train", "--config", p], REPO);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^dssr: unknown key 'bogus' in config file .*cli\.json; expected some of dataset, /);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("dssr table --help lists its flags and says the presets do not normalise", async () => {
    const r = await runBin(["table", "--help"], REPO);
    assert.equal(r.code, 0);
    for (const f of ["--preset", "--config", "--dataset", "--data-dir", "--epochs", "--conditions", "--seeds", "--folds",
      "--share-stage1", "--no-share-stage1", "--from", "--format", "--out", "--resume", "--quiet"]) {
      assert.match(r.stdout, new RegExp(`^ +${f} `, "m"), f);
    }
    for (const f of ["--test_condition", "--fold", "--save-model"]) assert.doesNotMatch(r.stdout, new RegExp(`^ +${f} `, "m"), f);
    assert.match(r.stdout.replace(/\s+/g, " "), /normalize none \(the release does not normalise features; add --normalize zscore for ours\)/);
  });
});
