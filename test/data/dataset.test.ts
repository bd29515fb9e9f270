// Dataset assembly (spec §1.2), IEMOCAP session folds and z-score normalisation.
// Expected statistics were computed with numpy (float64 over the float32 features).
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DATA, REPO } from "../helpers/paths.js";
import { ConfigError, FormatError, MissingUtteranceError } from "../../src/errors.js";
import {
  applyNormalization, assembleDataset, defaultLabelFile, featurePaths, iemocapSessionFolds, loadDataset,
  normalizeDataset,
} from "../../src/data/dataset.js";
import { readFeatureFile } from "../../src/data/features.js";
import { readLabelFile } from "../../src/data/labels.js";
import type { Dataset, EmotionLabelFile, FeatureFile, LabelFile, PerModality } from "../../src/data/types.js";

const FIX = join(REPO, "test", "fixtures");
const MOSI_DIR = join(DATA, "CMUMOSI");
const MOSI_FEATURES = { audio: "bclstm-opensmile-UTT", text: "bclstm-textcnn-UTT", video: "bclstm-3dcnn-UTT" };
// The MOSI feature files are a few MB: parse each once here and assemble from the parse.
// (loadDataset = these reads + assembleDataset; it is run end to end on the IEMOCAP fixture
// below and on the synthetic dataset in synthetic.test.ts.)
let mosiCache: { ds: Dataset; features: PerModality<FeatureFile> } | undefined;
function mosiParsed(): { ds: Dataset; features: PerModality<FeatureFile> } {
  if (!mosiCache) {
    const paths = featurePaths(MOSI_DIR, MOSI_FEATURES);
    const features = { a: readFeatureFile(paths.a), t: readFeatureFile(paths.t), v: readFeatureFile(paths.v) };
    const ds = assembleDataset("CMUMOSI", readLabelFile(defaultLabelFile("CMUMOSI", MOSI_DIR)), features);
    mosiCache = { ds, features };
  }
  return mosiCache;
}
const mosi = (): Dataset => mosiParsed().ds;

test("default paths follow the GCNet layout", () => {
  assert.equal(defaultLabelFile("CMUMOSI", "/d"), "/d/CMUMOSI_features_raw_2way.pkl");
  assert.equal(defaultLabelFile("CMUMOSEI", "/d"), "/d/CMUMOSEI_features_raw_2way.pkl");
  assert.equal(defaultLabelFile("IEMOCAPFour", "/d"), "/d/IEMOCAP_features_raw_4way.pkl");
  assert.equal(defaultLabelFile("IEMOCAPSix", "/d"), "/d/IEMOCAP_features_raw_6way.pkl");
  assert.deepEqual(featurePaths("/d", { audio: "wav2vec-large-c-UTT", text: "deberta-large-4-UTT", video: "manet-UTT" }), {
    a: "/d/features/wav2vec-large-c-UTT/audio.pkl",
    t: "/d/features/deberta-large-4-UTT/text.pkl",
    v: "/d/features/manet-UTT/video.pkl",
  });
  assert.throws(() => defaultLabelFile("MOSI" as never, "/d"), ConfigError);
});

test("real CMU-MOSI: label-file order, host vectors, splits from the label file", () => {
  const ds = mosi();
  assert.equal(ds.name, "CMUMOSI");
  assert.equal(ds.task, "regression");
  assert.equal(ds.nClasses, 1);
  assert.deepEqual(ds.dims, { a: 73, t: 100, v: 100 });
  assert.equal(ds.videos.size, 93);
  assert.deepEqual([ds.splits.train.length, ds.splits.val.length, ds.splits.test.length], [53, 9, 31]);
  assert.equal(ds.sources.labels, join(MOSI_DIR, "CMUMOSI_features_raw_2way.pkl"));
  assert.equal(ds.sources.a, join(MOSI_DIR, "features", "bclstm-opensmile-UTT", "audio.pkl"));
  const v = ds.videos.get("03bSnISJMiM")!;
  assert.equal(v.utteranceIds.length, 13);
  assert.deepEqual(Array.from(v.labels.slice(0, 4)), [2.4, -0.8, -1, -1.75]);
  assert.deepEqual(Array.from(v.speakers), new Array(13).fill(0));
  assert.equal(v.features.a.length, 13 * 73);
  assert.equal(v.features.a[0], 211.08999633789062); // 03bSnISJMiM_1, audio dim 0
  assert.equal(v.features.a[72], -0.011667000129818916);
  assert.equal(v.features.t[12 * 100], -0.6192370057106018); // 03bSnISJMiM_13, text dim 0
  assert.equal(v.features.v[12 * 100 + 1], 3.996999979019165); // 03bSnISJMiM_13, video dim 1
  const { features } = mosiParsed();
  const gcnet = assembleDataset("CMUMOSI", readLabelFile(join(MOSI_DIR, "CMUMOSI_features_raw_2way.gcnet-split.pkl")), features);
  assert.deepEqual([gcnet.splits.train.length, gcnet.splits.val.length, gcnet.splits.test.length], [52, 10, 31]);
});

test("z-score is fitted on the training utterances only and applied to every split", () => {
  const ds = mosi();
  const { dataset: z, stats } = normalizeDataset(ds, "zscore");
  assert.equal(stats.method, "zscore");
  if (stats.method !== "zscore") return;
  // Direct computation from the feature file, over the 1252 training utterances.
  const labels = readLabelFile(ds.sources.labels);
  const audio = mosiParsed().features.a;
  const xs = labels.train.flatMap((vid) => labels.videoIds.get(vid)!).map((u) => audio.host.get(u)![0]);
  assert.equal(xs.length, 1252);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(stats.mean.a[0] - mean) < 1e-9);
  assert.ok(Math.abs(stats.std.a[0] - std) < 1e-9);
  // The same numbers from numpy: X[:, 0].mean(), X[:, 0].std() (population).
  assert.ok(Math.abs(stats.mean.a[0] - 193.4805837149818) < 1e-9);
  assert.ok(Math.abs(stats.std.a[0] - 52.576442523969185) < 1e-9);
  assert.ok(Math.abs(stats.mean.t[1] - 0.20535096397872896) < 1e-12);
  assert.ok(Math.abs(stats.std.v[1] - 6.611712452931491) < 1e-9);
  // Video dim 0 is constant 0 on train: std 0 → divide by 1.
  assert.equal(stats.mean.v[0], 0);
  assert.equal(stats.std.v[0], 1);
  // A test-split utterance is transformed with the training stats.
  const test03 = z.videos.get("03bSnISJMiM")!;
  assert.ok(ds.splits.test.includes("03bSnISJMiM"));
  assert.equal(test03.features.a[0], Math.fround((211.08999633789062 - stats.mean.a[0]) / stats.std.a[0]));
  // Training utterances now have mean 0 and std 1 per dimension (checked on audio dim 5).
  const zs = ds.splits.train.flatMap((vid) => {
    const f = z.videos.get(vid)!.features.a;
    return Array.from({ length: f.length / 73 }, (_, i) => f[i * 73 + 5]);
  });
  const zm = zs.reduce((s, x) => s + x, 0) / zs.length;
  assert.ok(Math.abs(zm) < 1e-6);
  assert.ok(Math.abs(Math.sqrt(zs.reduce((s, x) => s + (x - zm) ** 2, 0) / zs.length) - 1) < 1e-5);
  // The input is untouched; stats can be applied again at predict time with the same result.
  assert.equal(ds.videos.get("03bSnISJMiM")!.features.a[0], 211.08999633789062);
  assert.deepEqual(applyNormalization(ds, stats).videos.get("03bSnISJMiM"), test03);
  const none = normalizeDataset(ds, "none");
  assert.equal(none.dataset, ds);
  assert.deepEqual(none.stats, { method: "none" });
  assert.throws(() => normalizeDataset(ds, "minmax" as never), ConfigError);
});

test("IEMOCAP: 'F' host → speaker 0, 'M' guest → speaker 1, input picks the speaker's slot", () => {
  const dir = join(FIX, "iemocap-mini");
  const ds = loadDataset({ name: "IEMOCAPFour", dataDir: dir, features: { audio: "mini", text: "mini", video: "mini" } });
  assert.equal(ds.sources.labels, join(dir, "IEMOCAP_features_raw_4way.pkl"));
  assert.equal(ds.sources.v, join(dir, "features", "mini", "video.pkl"));
  assert.equal(ds.task, "classification");
  assert.equal(ds.nClasses, 4);
  assert.deepEqual(ds.dims, { a: 2, t: 3, v: 2 });
  assert.deepEqual(ds.splits, { train: ["Ses01F_impro01"], val: [], test: ["Ses02M_script01"] });
  const d1 = ds.videos.get("Ses01F_impro01")!;
  assert.deepEqual(Array.from(d1.speakers), [0, 1, 0]);
  assert.deepEqual(Array.from(d1.labels), [0, 1, 2]);
  assert.deepEqual(Array.from(d1.features.a), [100, 100, 201, 201, 102, 102]);
  assert.deepEqual(Array.from(d1.features.t), [100, 100, 100, 201, 201, 201, 102, 102, 102]);
  const d2 = ds.videos.get("Ses02M_script01")!;
  assert.deepEqual(Array.from(d2.speakers), [1, 0]);
  assert.deepEqual(Array.from(d2.features.v), [20, 20, 104, 104]); // guest slot mean-pooled over time
  const folds = iemocapSessionFolds(ds);
  assert.deepEqual(folds.map((f) => [f.name, f.train, f.test]), [
    ["session1", ["Ses02M_script01"], ["Ses01F_impro01"]],
    ["session2", ["Ses01F_impro01"], ["Ses02M_script01"]],
  ]);
});

/** A dim-1 all-zero feature file covering every utterance of a label file. */
function zeros(labels: LabelFile): FeatureFile {
  const host = new Map<string, Float32Array>();
  for (const ids of labels.videoIds.values()) for (const u of ids) host.set(u, new Float32Array(1));
  return { file: "zeros", dim: 1, host };
}

test("real IEMOCAP: five leave-one-session-out folds of 28/30/32/30/31 dialogues; classes 4 and 6", () => {
  for (const [name, file, classes] of [
    ["IEMOCAPFour", "IEMOCAP_features_raw_4way.pkl", 4],
    ["IEMOCAPSix", "IEMOCAP_features_raw_6way.pkl", 6],
  ] as const) {
    const labels = readLabelFile(join(DATA, "IEMOCAP", file));
    const z = zeros(labels);
    const ds = assembleDataset(name, labels, { a: z, t: z, v: z });
    assert.equal(ds.nClasses, classes);
    assert.deepEqual([ds.splits.train.length, ds.splits.val.length, ds.splits.test.length], [120, 0, 31]);
    const folds = iemocapSessionFolds(ds);
    assert.deepEqual(folds.map((f) => f.session), [1, 2, 3, 4, 5]);
    assert.deepEqual(folds.map((f) => f.test.length), [28, 30, 32, 30, 31]);
    assert.deepEqual(folds.map((f) => f.train.length), [123, 121, 119, 121, 120]);
    for (const f of folds) {
      assert.ok(f.test.every((id) => id[4] === String(f.session)));
      assert.ok(f.train.every((id) => id[4] !== String(f.session)));
      assert.deepEqual(f.val, []);
    }
    assert.equal(folds[2].test[0], "Ses03M_impro08b"); // label-file order
  }
});

test("a feature file lacking an utterance is a MissingUtteranceError naming the id and file", () => {
  const labels = readLabelFile(join(FIX, "label-tuple.pkl"));
  const ok = readFeatureFile(join(FIX, "features-ok.pkl"));
  const missingPath = join(FIX, "features-missing-id.pkl");
  const missing = readFeatureFile(missingPath);
  assert.throws(
    () => assembleDataset("CMUMOSI", labels, { a: ok, t: missing, v: ok }),
    (e: unknown) =>
      e instanceof MissingUtteranceError && e.utteranceId === "vidB_2" && e.file === missingPath &&
      e.message.includes("'vidB_2'") && e.message.includes(missingPath),
  );
  const ds = assembleDataset("CMUMOSI", labels, { a: ok, t: ok, v: ok });
  assert.deepEqual(Array.from(ds.videos.get("vidB")!.features.t), [3, 3.5, -3, 1, 4, 4.5, -4, 1]);
});

test("dataset/label-file mismatches and class gaps are rejected", () => {
  const iemocap = readLabelFile(join(FIX, "iemocap-mini", "IEMOCAP_features_raw_4way.pkl")) as EmotionLabelFile;
  const z = zeros(iemocap);
  assert.throws(() => assembleDataset("CMUMOSI", iemocap, { a: z, t: z, v: z }), /needs a sentiment label file/);
  assert.throws(() => assembleDataset("Nope" as never, iemocap, { a: z, t: z, v: z }), ConfigError);
  const gap: EmotionLabelFile = {
    ...iemocap,
    videoLabels: new Map([["Ses01F_impro01", [0, 2, 2]], ["Ses02M_script01", [3, 0]]]),
  };
  assert.throws(
    () => assembleDataset("IEMOCAPFour", gap, { a: z, t: z, v: z }),
    (e: unknown) => e instanceof FormatError && /class 1 is absent/.test(e.message),
  );
});
