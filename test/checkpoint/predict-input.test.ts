/**
 * predict's inputs from the GCNet pickle layout: the same per-utterance vectors training reads
 * (IEMOCAP: the guest 'M' slot for speaker M), a modality absent where its file lacks the
 * utterance or is not given, skipped utterances, and the splits (IEMOCAP folds by session).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { featurePaths, loadDataset } from "../../src/data/dataset.js";
import { readFeatureFile } from "../../src/data/features.js";
import { readLabelFile } from "../../src/data/labels.js";
import type { FeatureFile } from "../../src/data/types.js";
import { predictInputFromFiles, readPredictPickles, splitVideoIds } from "../../src/predict-input.js";
import { REPO } from "../helpers/paths.js";

const DIR = join(REPO, "test", "fixtures", "iemocap-mini");
const FEATURES = { audio: "mini", text: "mini", video: "mini" };

test("IEMOCAP: every utterance gets the vectors training reads (the speaker's slot)", () => {
  const paths = featurePaths(DIR, FEATURES);
  const labelFile = join(DIR, "IEMOCAP_features_raw_4way.pkl");
  const input = readPredictPickles({ labelFile, featureFiles: paths });
  const ds = loadDataset({ name: "IEMOCAPFour", dataDir: DIR, features: FEATURES });
  assert.deepEqual(input.skipped, []);
  assert.deepEqual(input.videos.map((v) => v.id), [...ds.videos.keys()]);
  for (const video of input.videos) {
    const d = ds.videos.get(video.id)!;
    assert.deepEqual(video.utterances.map((u) => u.id), d.utteranceIds);
    video.utterances.forEach((u, i) => {
      for (const m of ["a", "t", "v"] as const) {
        const dim = ds.dims[m];
        assert.deepEqual(Array.from(u.features[m]!), Array.from(d.features[m].subarray(i * dim, (i + 1) * dim)), `${u.id} ${m}`);
      }
    });
  }
});

test("a modality is absent where its file lacks the utterance or is not given; an utterance with none is skipped", () => {
  const paths = featurePaths(DIR, FEATURES);
  const labels = readLabelFile(join(DIR, "IEMOCAP_features_raw_4way.pkl"));
  const audio = readFeatureFile(paths.a);
  const [first, second] = labels.videoIds.get("Ses01F_impro01")!;
  const drop = (f: FeatureFile, id: string): FeatureFile => {
    const host = new Map(f.host);
    host.delete(id);
    const guest = f.guest && new Map(f.guest);
    guest?.delete(id);
    return { ...f, host, ...(guest ? { guest } : {}) };
  };
  const text = drop(readFeatureFile(paths.t), first);
  const { videos, skipped } = predictInputFromFiles(labels, { a: drop(audio, first), t: text });
  assert.deepEqual(skipped, [`Ses01F_impro01/${first}`]);
  const utts = videos.find((v) => v.id === "Ses01F_impro01")!.utterances;
  assert.equal(utts[0].id, second);
  assert.deepEqual(Object.keys(utts[0].features), ["a", "t"]); // no video file given
});

test("splits: the label file's sets, or IEMOCAP's held-out session with a fold", () => {
  const labels = readLabelFile(join(DIR, "IEMOCAP_features_raw_4way.pkl"));
  assert.deepEqual(splitVideoIds(labels, "test"), ["Ses02M_script01"]);
  assert.deepEqual(splitVideoIds(labels, "test", 1), ["Ses01F_impro01"]);
  assert.deepEqual(splitVideoIds(labels, "train", 1), ["Ses02M_script01"]);
  assert.deepEqual(splitVideoIds(labels, "val", 1), []);
});
