/**
 * IEMOCAP's held-out validation dialogues (data/splits.ts holdOutValidation, TrainConfig.valFraction)
 * on the real label files: a seeded, per-session part of each leave-one-session-out fold's
 * training dialogues, never a test dialogue.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { assembleDataset, holdOutValidation, iemocapSessionFolds, withSplits } from "../../src/data/dataset.js";
import { readLabelFile } from "../../src/data/labels.js";
import { sessionOf } from "../../src/data/splits.js";
import type { Dataset, FeatureFile, LabelFile } from "../../src/data/types.js";
import { FormatError } from "../../src/errors.js";
import { DATA } from "../helpers/paths.js";

/** A feature file of one zero per utterance: the splits need the ids only. */
function zeros(labels: LabelFile): FeatureFile {
  const host = new Map<string, Float32Array>();
  for (const ids of labels.videoIds.values()) for (const u of ids) host.set(u, new Float32Array(1));
  return { file: "zeros", dim: 1, host };
}

const REAL: [name: "IEMOCAPFour" | "IEMOCAPSix", file: string][] = [
  ["IEMOCAPFour", "IEMOCAP_features_raw_4way.pkl"],
  ["IEMOCAPSix", "IEMOCAP_features_raw_6way.pkl"],
];

function real(name: "IEMOCAPFour" | "IEMOCAPSix", file: string): Dataset {
  const labels = readLabelFile(join(DATA, "IEMOCAP", file));
  const z = zeros(labels);
  return assembleDataset(name, labels, { a: z, t: z, v: z });
}

/** Sessions 1..5 hold 28/30/32/30/31 dialogues (the data README); round(0.1 × n) = 3 each. */
const SESSION_SIZES = [28, 30, 32, 30, 31];

test("real IEMOCAP-4 and -6: each fold's validation dialogues are 10% of each training session, out of train, never test", () => {
  for (const [name, file] of REAL) {
    const ds = real(name, file);
    const folds = iemocapSessionFolds(ds);
    assert.deepEqual(folds.map((f) => f.test.length), SESSION_SIZES);
    for (const f of folds) {
      const held = holdOutValidation(withSplits(ds, f), 0.1, 66, f.session);
      const { train, val, test: testIds } = held.splits;
      // Four training sessions, three dialogues each.
      assert.equal(val.length, 12, `${name} fold ${f.session}`);
      assert.equal(train.length, f.train.length - 12);
      assert.deepEqual(testIds, f.test, "the test dialogues are untouched");
      const perSession = new Map<number, number>();
      for (const id of val) perSession.set(sessionOf(id), (perSession.get(sessionOf(id)) ?? 0) + 1);
      assert.deepEqual([...perSession].sort((a, b) => a[0] - b[0]), [1, 2, 3, 4, 5].filter((s) => s !== f.session).map((s) => [s, 3]));
      // val ⊂ the fold's training dialogues; train ∪ val = them; disjoint from each other and from test.
      const foldTrain = new Set(f.train);
      assert.ok(val.every((id) => foldTrain.has(id)));
      assert.deepEqual(new Set([...train, ...val]), foldTrain);
      const trainSet = new Set(train);
      assert.ok(val.every((id) => !trainSet.has(id)));
      assert.ok(val.every((id) => !f.test.includes(id)) && train.every((id) => !f.test.includes(id)));
      // Both in label-file order.
      assert.deepEqual(val, f.train.filter((id) => val.includes(id)));
      assert.deepEqual(train, f.train.filter((id) => trainSet.has(id)));
      // Whole dialogues: the dataset's videos are shared, not split.
      assert.equal(held.videos, ds.videos);
    }
  }
});

test("the held-out dialogues are fixed per (seed, fold): same again, another seed or fold draws others", () => {
  const ds = real("IEMOCAPFour", "IEMOCAP_features_raw_4way.pkl");
  const folds = iemocapSessionFolds(ds);
  const val = (seed: number, fold: number) => holdOutValidation(withSplits(ds, folds[fold - 1]), 0.1, seed, fold).splits.val;
  assert.deepEqual(val(66, 1), val(66, 1));
  assert.notDeepEqual(val(66, 1), val(67, 1));
  assert.notDeepEqual(val(66, 1), val(68, 1));
  // Folds 1 and 2 share sessions 3-5; their draws there differ.
  const shared = (ids: string[]) => ids.filter((id) => sessionOf(id) >= 3);
  assert.notDeepEqual(shared(val(66, 1)), shared(val(66, 2)));
  // The six-way file holds the same dialogues: the same draw.
  const six = real("IEMOCAPSix", "IEMOCAP_features_raw_6way.pkl");
  const sixFold = iemocapSessionFolds(six)[0];
  assert.deepEqual(holdOutValidation(withSplits(six, sixFold), 0.1, 66, 1).splits.val, val(66, 1));
});

test("other fractions, the label file's own split, 0 and refusals", () => {
  const ds = real("IEMOCAPFour", "IEMOCAP_features_raw_4way.pkl");
  const fold3 = withSplits(ds, iemocapSessionFolds(ds)[2]);
  // Sessions 1, 2, 4, 5: 28/30/30/31 → round(0.25 n) = 7, 8 (7.5 rounds up), 8, 8.
  assert.equal(holdOutValidation(fold3, 0.25, 1, 3).splits.val.length, 7 + 8 + 8 + 8);
  // A small fraction still holds out one dialogue per session.
  assert.equal(holdOutValidation(fold3, 0.001, 1, 3).splits.val.length, 4);
  // Without a fold (the label file's 120/31 split), all five sessions are strata.
  const own = holdOutValidation(ds, 0.1, 66, null);
  assert.equal(own.splits.val.length + own.splits.train.length, 120);
  assert.deepEqual(own.splits.test, ds.splits.test);
  assert.ok(own.splits.val.length >= 10 && own.splits.val.length <= 15);
  // 0 and null: unchanged.
  assert.equal(holdOutValidation(fold3, 0, 66, 3), fold3);
  assert.equal(holdOutValidation(fold3, null, 66, 3), fold3);
  assert.throws(() => holdOutValidation(fold3, 1, 66, 3), RangeError);
  // A dataset with a validation split of its own (MOSI/MOSEI) is not given another.
  const withVal = withSplits(fold3, { train: fold3.splits.train.slice(5), val: fold3.splits.train.slice(0, 5), test: fold3.splits.test });
  assert.throws(() => holdOutValidation(withVal, 0.1, 66, 3), FormatError);
});
