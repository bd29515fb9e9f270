// Label files: every real one in ../shared/data, tuple and list containers, and rejections.
// Expected values were read with CPython's pickle + numpy 2.4.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATA, REPO } from "../helpers/paths.js";
import { FormatError } from "../../src/errors.js";
import { readLabelFile } from "../../src/data/labels.js";
import { tuple, writePickle, type PickleIn } from "../../src/data/pickle-writer.js";
import type { EmotionLabelFile, LabelFile, SentimentLabelFile } from "../../src/data/types.js";

const FIX = join(REPO, "test", "fixtures");
const MOSI = join(DATA, "CMUMOSI", "CMUMOSI_features_raw_2way.pkl");
const MOSI_GCNET = join(DATA, "CMUMOSI", "CMUMOSI_features_raw_2way.gcnet-split.pkl");
const IEMOCAP4 = join(DATA, "IEMOCAP", "IEMOCAP_features_raw_4way.pkl");
const IEMOCAP6 = join(DATA, "IEMOCAP", "IEMOCAP_features_raw_6way.pkl");

const utterances = (f: LabelFile, vids: Iterable<string> = f.videoIds.keys()): number =>
  [...vids].reduce((s, v) => s + f.videoIds.get(v)!.length, 0);

function sentiment(path: string): SentimentLabelFile {
  const f = readLabelFile(path);
  assert.equal(f.kind, "sentiment");
  return f as SentimentLabelFile;
}

function classCounts(f: LabelFile): number[] {
  const counts: number[] = [];
  for (const ys of f.videoLabels.values()) for (const y of ys) counts[y] = (counts[y] ?? 0) + 1;
  return counts;
}

test("CMU-MOSI default label file (7-tuple of plain Python objects)", () => {
  const f = sentiment(MOSI);
  assert.equal(f.file, MOSI);
  assert.equal(f.videoIds.size, 93);
  assert.equal(utterances(f), 2199);
  assert.deepEqual([f.train.length, utterances(f, f.train)], [53, 1252]);
  assert.deepEqual([f.val.length, utterances(f, f.val)], [9, 195]);
  assert.deepEqual([f.test.length, utterances(f, f.test)], [31, 752]);
  // Splits come in label-file order.
  assert.deepEqual([...f.videoIds.keys()].slice(0, 3), ["03bSnISJMiM", "0h-zjBukYpk", "1DmNV9C1hbY"]);
  assert.deepEqual(f.train.slice(0, 2), ["1DmNV9C1hbY", "2iD-tVS8NPw"]);
  assert.equal(f.train.at(-1), "zhpQhgha_KU");
  assert.deepEqual(f.val.slice(0, 2), ["WKA5OygbEKI", "X3j2zQgwYgE"]);
  assert.deepEqual(f.test.slice(0, 2), ["03bSnISJMiM", "0h-zjBukYpk"]);
  assert.equal(f.test.at(-1), "vyB00TXsimI");
  // Known entries.
  assert.deepEqual(f.videoIds.get("03bSnISJMiM")!.slice(0, 3), ["03bSnISJMiM_1", "03bSnISJMiM_2", "03bSnISJMiM_3"]);
  assert.deepEqual(f.videoLabels.get("03bSnISJMiM"), [2.4, -0.8, -1.0, -1.75, 0.0, 0.0, 0.8, 0.0, 0.2, -1.2, -0.5, 2.2, 1.8]);
  assert.equal(f.videoSentences.get("03bSnISJMiM")![0], "ANYHOW IT WAS REALLY GOOD");
  assert.equal(f.videoLabels.get("d6hH302o4v8")![4], -1.33333333333);
  const v5 = f.videoIds.get("2iD-tVS8NPw")!;
  assert.equal(v5.length, 30);
  assert.deepEqual(f.videoLabels.get("2iD-tVS8NPw")!.slice(0, 4), [-0.5, 2.2, 1.4, 2.2]);
  assert.deepEqual(new Set([...f.videoSpeakers.values()].flat()), new Set([""]));
  const all = [...f.videoLabels.values()].flat();
  assert.equal(Math.min(...all), -3);
  assert.equal(Math.max(...all), 3);
  assert.ok(Math.abs(all.reduce((s, y) => s + y, 0) - 154.51666666666) < 1e-9);
});

test("CMU-MOSI GCNet label file (7-list with numpy scalars and <U sentence arrays)", () => {
  const f = sentiment(MOSI_GCNET);
  assert.equal(f.videoIds.size, 93);
  assert.equal(utterances(f), 2199);
  assert.deepEqual([f.train.length, utterances(f, f.train)], [52, 1284]);
  assert.deepEqual([f.val.length, utterances(f, f.val)], [10, 229]);
  assert.deepEqual([f.test.length, utterances(f, f.test)], [31, 686]);
  assert.deepEqual(f.train.slice(0, 2), ["03bSnISJMiM", "0h-zjBukYpk"]);
  assert.equal(f.train.at(-1), "W8NXH0Djyww");
  assert.deepEqual(f.test.slice(0, 2), ["c7UH_rxdZv4", "cM3Yna7AavY"]);
  assert.deepEqual(f.videoLabels.get("03bSnISJMiM")!.slice(0, 4), [2.4, -0.8, -1.0, -1.75]);
  assert.equal(
    f.videoSentences.get("2iD-tVS8NPw")![0],
    "BEFORE I WENT IN TO SEE THE GREEN LANTERN IVE BEEN HEARING ALL THESE LIKE CRITICS BASICALLY JUST TRASHING THIS MOVIE LEFT AND RIGHT",
  );
  // Same labels and ids as the default file; only the split differs.
  const d = sentiment(MOSI);
  assert.deepEqual(f.videoLabels, d.videoLabels);
  assert.deepEqual(f.videoSentences, d.videoSentences);
});

test("IEMOCAP 4-way and 6-way label files (6-lists, class ids, F/M speakers)", () => {
  const f = readLabelFile(IEMOCAP4) as EmotionLabelFile;
  assert.equal(f.kind, "emotion");
  assert.equal(f.videoIds.size, 151);
  assert.equal(utterances(f), 5531);
  assert.deepEqual(classCounts(f), [1636, 1084, 1708, 1103]);
  assert.deepEqual([f.train.length, f.test.length], [120, 31]);
  assert.deepEqual(f.test.slice(0, 2), ["Ses05M_impro02", "Ses05M_impro01"]);
  const first = "Ses03M_impro08b";
  assert.equal([...f.videoIds.keys()][0], first);
  assert.deepEqual(f.videoIds.get(first)!.slice(0, 3), ["Ses03M_impro08b_M000", "Ses03M_impro08b_M001", "Ses03M_impro08b_M002"]);
  assert.deepEqual(f.videoLabels.get(first)!.slice(0, 6), [2, 2, 2, 2, 2, 3]);
  assert.deepEqual(f.videoSpeakers.get(first)!.slice(0, 6), ["M", "M", "M", "M", "M", "F"]);
  assert.equal(
    f.videoSentences.get(first)![1],
    "I'm sorry ma'am.  What's the nature of your problem?  But first can I get you to tell me your first and last name?",
  );
  assert.equal([...f.videoSpeakers.values()].flat().filter((s) => s === "F").length, 2649);
  assert.equal(Math.max(...[...f.videoIds.values()].map((u) => u.length)), 110);

  const six = readLabelFile(IEMOCAP6) as EmotionLabelFile;
  assert.equal(six.videoIds.size, 151);
  assert.equal(utterances(six), 7433);
  assert.deepEqual(classCounts(six), [648, 1084, 1708, 1103, 1041, 1849]);
  assert.deepEqual(six.videoLabels.get(first)!.slice(0, 6), [2, 5, 2, 5, 2, 5]);
});

test("tuple and list containers, Python floats and numpy scalars, read the same", () => {
  const a = sentiment(join(FIX, "label-tuple.pkl"));
  const b = sentiment(join(FIX, "label-list-numpy.pkl"));
  for (const f of [a, b]) {
    assert.deepEqual([...f.videoIds], [["vidA", ["vidA_1", "vidA_2", "vidA_3"]], ["vidB", ["vidB_1", "vidB_2"]]]);
    assert.deepEqual(f.videoLabels.get("vidA"), [2.4, -0.8, 0]);
    assert.deepEqual(f.videoSentences.get("vidB"), ["FOURTH", "FIFTH"]);
    assert.deepEqual([f.train, f.val, f.test], [["vidA"], [], ["vidB"]]);
  }
});

function rejects(path: string, pattern: RegExp): void {
  assert.throws(
    () => readLabelFile(path),
    (e: unknown) => e instanceof FormatError && pattern.test(e.message) && e.message.includes(path) && e.file === path,
  );
}

test("rejections are FormatErrors naming the file and what was expected", () => {
  rejects(join(FIX, "label-out-of-range.pkl"), /videoLabels\['vidA'\]\[2\] is 3\.5, expected a sentiment score in \[-3, 3\]/);
  rejects(join(FIX, "label-count-mismatch.pkl"), /videoLabels\['vidA'\] has 2 entries but the video has 3 utterances/);
  const dir = mkdtempSync(join(tmpdir(), "dssr-labels-"));
  try {
    const ids = new Map([["v", ["v_1"]]]);
    const write = (name: string, value: PickleIn): string => {
      const p = join(dir, name);
      writePickle(p, value);
      return p;
    };
    rejects(write("five.pkl", tuple(ids, ids, ids, ids, new Set())), /expected a tuple or list of 7 items .* or 6 items .*, got a list\/tuple\/set of 5 items/);
    rejects(write("notdict.pkl", tuple([], ids, ids, ids, new Set(), new Set(), new Set())), /item 0 \(videoIDs\) should be a dict/);
    // An IEMOCAP-like 6-list with one dialogue 'v' of one utterance.
    const iemocap = (labels: PickleIn[], speakers: string[] = ["F"]): PickleIn =>
      [ids, new Map([["v", labels]]), new Map([["v", speakers]]), new Map([["v", ["hi"]]]), new Set(["v"]), new Set()];
    rejects(write("float-class.pkl", iemocap([1.5])), /videoLabels\['v'\]\[0\] is 1\.5, expected a class id/);
    rejects(write("speaker.pkl", iemocap([1n], ["X"])), /videoSpeakers\['v'\]\[0\] is 'X', expected 'F' or 'M'/);
    rejects(
      write("split.pkl", [ids, new Map([["v", [1n]]]), new Map([["v", ["F"]]]), new Map([["v", ["hi"]]]), new Set(["v", "w"]), new Set()]),
      /trainVid names video 'w' that videoIDs lacks/,
    );
    rejects(
      write("overlap.pkl", [ids, new Map([["v", [1n]]]), new Map([["v", ["F"]]]), new Map([["v", ["hi"]]]), new Set(["v"]), new Set(["v"])]),
      /video 'v' is in both trainVid and testVid/,
    );
    rejects(
      write("nan.pkl", tuple(ids, new Map([["v", [NaN]]]), new Map([["v", [""]]]), new Map([["v", ["hi"]]]), new Set(), new Set(), new Set())),
      /videoLabels\['v'\]\[0\] should be a finite number/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
