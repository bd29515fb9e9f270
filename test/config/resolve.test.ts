/** resolveTrainConfig: the presets of spec §2.5, the common defaults, and every refusal. */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { checkTrainInputs, resolveTrainConfig } from "../../src/config/resolve.js";
import { parseConditionList } from "../../src/config/conditions.js";
import { configDifferences, RUN_IDENTITY_KEYS } from "../../src/config/identity.js";
import type { TrainConfig } from "../../src/config/types.js";
import { ConfigError, FileError } from "../../src/errors.js";

const dataDir = "/data/gcnet";

describe("resolveTrainConfig defaults", () => {
  const expected = {
    CMUMOSI: { lr: 2e-4, batchSize: 32, epochs: 400, stageEpoch: 200, valFraction: null, label: "CMUMOSI_features_raw_2way.pkl" },
    CMUMOSEI: { lr: 5e-5, batchSize: 32, epochs: 100, stageEpoch: 50, valFraction: null, label: "CMUMOSEI_features_raw_2way.pkl" },
    IEMOCAPFour: { lr: 2.5e-4, batchSize: 16, epochs: 200, stageEpoch: 100, valFraction: 0.1, label: "IEMOCAP_features_raw_4way.pkl" },
    IEMOCAPSix: { lr: 2.5e-4, batchSize: 16, epochs: 200, stageEpoch: 100, valFraction: 0.1, label: "IEMOCAP_features_raw_6way.pkl" },
  } as const;
  for (const [dataset, e] of Object.entries(expected)) {
    it(`${dataset}: spec §2.5 preset plus the common defaults`, () => {
      assert.deepEqual(resolveTrainConfig({ dataset, dataDir }), {
        dataset,
        dataDir,
        labelFile: join(dataDir, e.label),
        features: { audio: "wav2vec-large-c-UTT", text: "deberta-large-4-UTT", video: "manet-UTT" },
        condition: "atv",
        epochs: e.epochs,
        stageEpoch: e.stageEpoch,
        lr: e.lr,
        weightDecay: 1e-5,
        batchSize: e.batchSize,
        hidden: 128,
        heads: 4,
        dropout: 0.5,
        seed: 66,
        normalize: "zscore",
        valFraction: e.valFraction,
        out: null,
      });
    });
  }

  it("given epochs but no stage epoch, half and half; given both, as given", () => {
    assert.equal(resolveTrainConfig({ dataset: "CMUMOSI", dataDir, epochs: 11 }).stageEpoch, 5);
    assert.equal(resolveTrainConfig({ dataset: "CMUMOSI", dataDir, epochs: 11, stageEpoch: 11 }).stageEpoch, 11);
    assert.equal(resolveTrainConfig({ dataset: "CMUMOSI", dataDir, epochs: 11, stageEpoch: 0 }).stageEpoch, 0);
  });

  it("keeps what is given; relative paths become absolute", () => {
    const c = resolveTrainConfig({
      dataset: "IEMOCAPFour", dataDir: "rel/data", labelFile: "labels.pkl", condition: "tv",
      features: { text: "bert" }, lr: 1e-3, batchSize: 4, hidden: 64, heads: 2, dropout: 0, seed: 0,
      normalize: "none", out: "runs/x", weightDecay: 0,
    });
    assert.equal(c.dataDir, resolve("rel/data"));
    assert.equal(c.labelFile, resolve("labels.pkl"));
    assert.equal(c.out, resolve("runs/x"));
    assert.deepEqual(c.features, { audio: "wav2vec-large-c-UTT", text: "bert", video: "manet-UTT" });
    assert.deepEqual(
      [c.condition, c.lr, c.batchSize, c.hidden, c.heads, c.dropout, c.seed, c.normalize, c.weightDecay],
      ["tv", 1e-3, 4, 64, 2, 0, 0, "none", 0],
    );
  });
});

describe("resolveTrainConfig refuses", () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["an unknown dataset", { dataset: "MOSI" }, /unknown dataset 'MOSI'; expected one of CMUMOSI, CMUMOSEI, IEMOCAPFour, IEMOCAPSix/],
    ["no dataset", { dataset: "" }, /dataset is required \(--dataset\)/],
    ["no data dir", { dataDir: "" }, /dataDir is required \(--data-dir\)/],
    ["an unknown condition", { condition: "va" }, /unknown condition 'va'; expected one of a, t, v, at, av, tv, atv/],
    ["zero epochs", { epochs: 0 }, /epochs \(--epochs\) must be an integer ≥ 1, got 0/],
    ["fractional epochs", { epochs: 2.5 }, /epochs \(--epochs\) must be an integer/],
    ["a stage epoch past the epochs", { epochs: 10, stageEpoch: 11 }, /stageEpoch \(--stage_epoch\) must be an integer in 0\.\.epochs \(10\), got 11/],
    ["a negative stage epoch", { stageEpoch: -1 }, /stageEpoch/],
    ["lr 0", { lr: 0 }, /lr \(--lr\) must be a number in \(0, 1\], got 0/],
    ["lr NaN", { lr: NaN }, /lr \(--lr\) must be a number/],
    ["lr above 1", { lr: 2 }, /lr/],
    ["batch 0", { batchSize: 0 }, /batchSize \(--batch_size\) must be an integer/],
    ["dropout 1", { dropout: 1 }, /dropout \(--drop_rate\) must be a number in \[0, 1\), got 1/],
    ["negative dropout", { dropout: -0.1 }, /dropout/],
    ["hidden not a multiple of heads", { hidden: 30, heads: 4 }, /hidden \(--D_e\) must be a multiple of heads/],
    ["a negative seed", { seed: -1 }, /seed \(--seed\) must be an integer/],
    ["an unknown normalisation", { normalize: "minmax" }, /unknown normalize 'minmax' \(--normalize\); expected zscore or none/],
    ["an empty feature folder", { features: { video: " " } }, /video feature folder \(--video-feature\)/],
    ["a validation fraction for MOSI", { valFraction: 0.1 }, /valFraction \(--val-fraction\) applies to IEMOCAP, which has no validation split; CMUMOSI uses its label file's validation split/],
    ["a validation fraction 0 for MOSEI", { dataset: "CMUMOSEI", valFraction: 0 }, /valFraction \(--val-fraction\) applies to IEMOCAP.*CMUMOSEI/],
    ["a validation fraction above 0.5", { dataset: "IEMOCAPFour", valFraction: 0.6 }, /valFraction \(--val-fraction\) must be a number in \[0, 0\.5\], got 0\.6/],
    ["a negative validation fraction", { dataset: "IEMOCAPSix", valFraction: -0.1 }, /valFraction \(--val-fraction\) must be a number in \[0, 0\.5\]/],
  ];
  for (const [what, opts, message] of bad) {
    it(what, () => {
      assert.throws(
        () => resolveTrainConfig({ dataset: "CMUMOSI", dataDir, ...opts } as never),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});

describe("valFraction (IEMOCAP's held-out validation dialogues)", () => {
  it("IEMOCAP keeps a given fraction, 0 included, and takes null as the default; MOSI/MOSEI accept null", () => {
    assert.equal(resolveTrainConfig({ dataset: "IEMOCAPFour", dataDir, valFraction: 0.25 }).valFraction, 0.25);
    assert.equal(resolveTrainConfig({ dataset: "IEMOCAPSix", dataDir, valFraction: 0 }).valFraction, 0);
    assert.equal(resolveTrainConfig({ dataset: "IEMOCAPSix", dataDir, valFraction: null }).valFraction, 0.1);
    assert.equal(resolveTrainConfig({ dataset: "CMUMOSEI", dataDir, valFraction: null }).valFraction, null);
  });

  it("is part of a run's identity; a config written before it existed counts as no held-out split", () => {
    const now = resolveTrainConfig({ dataset: "IEMOCAPFour", dataDir });
    assert.ok(RUN_IDENTITY_KEYS.includes("valFraction"));
    assert.deepEqual(configDifferences({ ...now, valFraction: 0.2 }, now), ["valFraction 0.2 there, 0.1 now"]);
    const legacy: Partial<TrainConfig> = { ...now };
    delete legacy.valFraction;
    assert.deepEqual(configDifferences(legacy, now), ["valFraction 0 there, 0.1 now"]);
    assert.deepEqual(configDifferences(legacy, { ...now, valFraction: 0 }), []);
    const mosi = resolveTrainConfig({ dataset: "CMUMOSI", dataDir });
    const legacyMosi: Partial<TrainConfig> = { ...mosi };
    delete legacyMosi.valFraction;
    assert.deepEqual(configDifferences(legacyMosi, mosi), []);
  });
});

describe("checkTrainInputs", () => {
  const root = join(tmpdir(), `dssr-resolve-${process.pid}`);
  const config = () =>
    resolveTrainConfig({ dataset: "CMUMOSI", dataDir: root, features: { audio: "A", text: "T", video: "V" } });

  it("names the first missing file and passes once all exist", () => {
    rmSync(root, { recursive: true, force: true });
    const fails = (pattern: RegExp) =>
      assert.throws(() => checkTrainInputs(config()), (e: unknown) => e instanceof FileError && pattern.test(e.message));
    try {
      fails(/data directory not found/);
      mkdirSync(root, { recursive: true });
      fails(/label file not found: .*CMUMOSI_features_raw_2way\.pkl/);
      writeFileSync(join(root, "CMUMOSI_features_raw_2way.pkl"), "");
      fails(/audio feature file not found: .*features\/A\/audio\.pkl .*has no feature folders/);
      for (const [f, file] of [["A", "audio"], ["T", "text"], ["V", "video"]]) {
        mkdirSync(join(root, "features", f), { recursive: true });
        writeFileSync(join(root, "features", f, `${file}.pkl`), "");
      }
      checkTrainInputs(config());
      writeFileSync(join(root, "afile"), "");
      assert.throws(
        () => checkTrainInputs({ ...config(), out: join(root, "afile") }),
        (e: unknown) => e instanceof FileError && /exists and is not a folder/.test(e.message),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("parseConditionList", () => {
  it("keeps the order given and refuses unknown or repeated names", () => {
    assert.deepEqual(parseConditionList("atv, a,t"), ["atv", "a", "t"]);
    assert.throws(() => parseConditionList("a,x"), /unknown condition 'x'/);
    assert.throws(() => parseConditionList("a,a"), /listed twice/);
    assert.throws(() => parseConditionList(" , "), /no conditions given/);
  });
});
