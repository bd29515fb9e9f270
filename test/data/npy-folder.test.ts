// The GCNet/MoMKE .npy folder layout: read directly (readNpyFeatureFolder, loadDataset, the train
// pre-checks), converted to the pickle layout (convertNpyFolder) and read back through the pickle
// reader. IEMOCAP uses the real label file (5531 utterance ids, real F/M speakers) with generated
// dim-3 features, including GCNet's per-utterance face folders. Values are multiples of 1/8 in
// [-4, 4), exact in float16, so every expected number below is exact.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATA } from "../helpers/paths.js";
import { manyFilesTempDir, npyBytes, writeEmotionLabels, writeNpy, writeSentimentLabels } from "../helpers/npy.js";
import {
  DssrError, FeatureDimensionError, FileError, FormatError, MissingUtteranceError, NonFiniteFeatureError,
} from "../../src/errors.js";
import { convertNpyFolder } from "../../src/data/convert.js";
import { loadDataset } from "../../src/data/dataset.js";
import { readFeatureFile } from "../../src/data/features.js";
import { readLabelFile } from "../../src/data/labels.js";
import { featureSource, isNpyFeatureFolder, readFeatureSource, readNpyFeatureFolder } from "../../src/data/npy-folder.js";
import { tuple, writePickle, type PickleIn } from "../../src/data/pickle-writer.js";
import type { Dataset, EmotionLabelFile, FeatureFile } from "../../src/data/types.js";
import { checkTrainInputs, resolveTrainConfig } from "../../src/config/resolve.js";
import { readPredictPickles } from "../../src/predict-input.js";

const IEMOCAP_LABELS = join(DATA, "IEMOCAP", "IEMOCAP_features_raw_4way.pkl");

let root: string;
before(() => (root = manyFilesTempDir("npy-folder")));
after(() => rmSync(root, { recursive: true, force: true }));

/** A dim-3 vector from an index and a salt: multiples of 1/8 in [-4, 4). */
const vec = (i: number, salt: number): number[] => [0, 1, 2].map((j) => (((i * 7 + j * 3 + salt * 5) % 64) + 64) % 64 / 8 - 4);
const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
const mean = (...rows: number[][]): number[] => rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
const ZERO = [0, 0, 0];

const asArrays = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, [...v]]));

describe("a single-speaker .npy folder without a label file", () => {
  test("1-D, 2-D (mean-pooled), float16/32/64, Fortran order and a face folder, exact values", () => {
    const dir = join(root, "mosi-like");
    writeNpy(join(dir, "vidA_1.npy"), { descr: "<f4", shape: [3], data: vec(1, 0) });
    writeNpy(join(dir, "vidA_2.npy"), { descr: "<f8", shape: [3, 3], data: [...vec(2, 0), ...vec(2, 1), ...vec(2, 2)] });
    writeNpy(join(dir, "vidA_3.npy"), { descr: "<f2", shape: [1, 3], data: vec(3, 0) }); // squeezed to (3,)
    writeNpy(join(dir, "vidB_1.npy"), { descr: ">f4", shape: [2, 3], data: [...vec(4, 0), ...vec(4, 1)], fortran: true });
    writeNpy(join(dir, "vidB_2", "00001.npy"), { descr: "<f4", shape: [3], data: vec(5, 0) }); // GCNet: one file per face
    writeNpy(join(dir, "vidB_2", "00002.npy"), { descr: "<f4", shape: [3], data: vec(5, 1) });
    writeNpy(join(dir, "vidB_3.npy"), { descr: "<f4", shape: [0, 3], data: [] }); // no frames: zeros, as GCNet
    writeFileSync(join(dir, "README.txt"), "not a feature");
    const file = readNpyFeatureFolder(dir);
    assert.equal(file.file, dir);
    assert.equal(file.dim, 3);
    assert.equal(file.guest, undefined);
    assert.deepEqual([...file.host.keys()], ["vidA_1", "vidA_2", "vidA_3", "vidB_1", "vidB_2", "vidB_3"]);
    assert.deepEqual(asArrays(file.host), new Map([
      ["vidA_1", vec(1, 0)],
      ["vidA_2", [...f32(mean(vec(2, 0), vec(2, 1), vec(2, 2)))]],
      ["vidA_3", vec(3, 0)],
      ["vidB_1", mean(vec(4, 0), vec(4, 1))],
      ["vidB_2", mean(vec(5, 0), vec(5, 1))],
      ["vidB_3", ZERO],
    ]));
    // Converted and read back through the pickle reader: the same arrays.
    const pkl = join(root, "mosi-like.pkl");
    const r = convertNpyFolder({ from: dir, to: pkl });
    assert.deepEqual({ ...r, from: undefined, to: undefined }, { from: undefined, to: undefined, labelFile: null, utterances: 6, dim: 3, speakerSlots: false });
    const back = readFeatureFile(pkl);
    assert.equal(back.dim, 3);
    assert.equal(back.guest, undefined);
    assert.deepEqual(asArrays(back.host), asArrays(file.host));
    assert.deepEqual(readdirSync(root).filter((n) => n.includes(".tmp")), [], "no temporary left");
  });
});

describe("IEMOCAP: the real label file, per-speaker slots and face folders", () => {
  let dir: string;
  let labels: EmotionLabelFile;
  /** Expected F and M slot per modality and utterance. */
  const expected = { a: new Map<string, [number[], number[]]>(), t: new Map<string, [number[], number[]]>(), v: new Map<string, [number[], number[]]>() };

  before(() => {
    dir = join(root, "iemocap");
    const lf = readLabelFile(IEMOCAP_LABELS);
    assert.equal(lf.kind, "emotion");
    labels = lf as EmotionLabelFile;
    const feat = (name: string) => join(dir, "features", name);
    let i = 0;
    for (const [vid, ids] of labels.videoIds) {
      const speakers = labels.videoSpeakers.get(vid)!;
      ids.forEach((u, k) => {
        const s = speakers[k] as "F" | "M";
        const slot = (x: number[]): [number[], number[]] => (s === "F" ? [x, ZERO] : [ZERO, x]);
        // audio: a plain <utt>.npy vector → the speaker's slot
        writeNpy(join(feat("npy-a"), `${u}.npy`), { descr: "<f4", shape: [3], data: vec(i, 0) });
        expected.a.set(u, slot(vec(i, 0)));
        // text: a float16 time × dim matrix, mean-pooled → the speaker's slot
        writeNpy(join(feat("npy-t"), `${u}.npy`), { descr: "<f2", shape: [2, 3], data: [...vec(i, 1), ...vec(i, 2)] });
        expected.t.set(u, slot(mean(vec(i, 1), vec(i, 2))));
        // video: GCNet's compressed faces <utt>/compress_{F,M}.npy; flat <utt>_{F,M}.npy; raw faces (F only)
        if (i % 3 === 0) {
          writeNpy(join(feat("npy-v"), u, "compress_F.npy"), { descr: "<f4", shape: [3], data: vec(i, 3) });
          writeNpy(join(feat("npy-v"), u, "compress_M.npy"), { descr: "<f8", shape: [3], data: vec(i, 4) });
          expected.v.set(u, [vec(i, 3), vec(i, 4)]);
        } else if (i % 3 === 1) {
          writeNpy(join(feat("npy-v"), `${u}_F.npy`), { descr: "<f4", shape: [3], data: vec(i, 3) });
          writeNpy(join(feat("npy-v"), `${u}_M.npy`), { descr: "<f4", shape: [1, 3], data: vec(i, 4) });
          expected.v.set(u, [vec(i, 3), vec(i, 4)]);
        } else {
          writeNpy(join(feat("npy-v"), u, "F_000.npy"), { descr: "<f4", shape: [3], data: vec(i, 3) });
          writeNpy(join(feat("npy-v"), u, "F_001.npy"), { descr: "<f4", shape: [3], data: vec(i, 5) });
          expected.v.set(u, [mean(vec(i, 3), vec(i, 5)), ZERO]);
        }
        i++;
      });
    }
    assert.equal(i, 5531);
  });

  const check = (file: FeatureFile, want: Map<string, [number[], number[]]>, what: string) => {
    assert.equal(file.dim, 3);
    assert.ok(file.guest, "F and M slots");
    assert.equal(file.host.size, 5531);
    for (const [u, [F, M]] of want) {
      assert.deepEqual([...file.host.get(u)!], F, `${what} ${u} F`);
      assert.deepEqual([...file.guest!.get(u)!], M, `${what} ${u} M`);
    }
  };

  test("readNpyFeatureFolder fills F/M from the label file's speakers and the file names", () => {
    check(readNpyFeatureFolder(join(dir, "features", "npy-a"), { labels }), expected.a, "audio");
    check(readNpyFeatureFolder(join(dir, "features", "npy-t"), { labels }), expected.t, "text");
    check(readNpyFeatureFolder(join(dir, "features", "npy-v"), { labels }), expected.v, "video");
  });

  let fromNpy: Dataset;
  test("loadDataset reads the folders directly (no audio.pkl): each utterance takes its speaker's slot", () => {
    const ds = (fromNpy = loadDataset({
      name: "IEMOCAPFour", dataDir: dir, labelFile: IEMOCAP_LABELS,
      features: { audio: "npy-a", text: "npy-t", video: "npy-v" },
    }));
    assert.deepEqual(ds.dims, { a: 3, t: 3, v: 3 });
    assert.equal(ds.sources.v, join(dir, "features", "npy-v"));
    let n = 0;
    for (const video of ds.videos.values()) {
      video.utteranceIds.forEach((u, k) => {
        for (const m of ["a", "t", "v"] as const) {
          const [F, M] = expected[m].get(u)!;
          assert.deepEqual([...video.features[m].subarray(3 * k, 3 * k + 3)], video.speakers[k] === 1 ? M : F, `${m} ${u}`);
        }
        n++;
      });
    }
    assert.equal(n, 5531);
  });

  test("convert → pickle → the pickle reader gives the same slots, and the same dataset", () => {
    const names = { a: "npy-a", t: "npy-t", v: "npy-v" } as const;
    const files = { a: "audio.pkl", t: "text.pkl", v: "video.pkl" } as const;
    for (const m of ["a", "t", "v"] as const) {
      const to = join(dir, "features", `pkl-${m}`, files[m]);
      mkdirSync(join(to, ".."), { recursive: true });
      const r = convertNpyFolder({ from: join(dir, "features", names[m]), to, labelFile: IEMOCAP_LABELS, dataset: "IEMOCAPFour" });
      assert.deepEqual([r.utterances, r.dim, r.speakerSlots, r.labelFile], [5531, 3, true, IEMOCAP_LABELS]);
      check(readFeatureFile(to), expected[m], `${m} pickle`);
    }
    const opts = { name: "IEMOCAPFour" as const, dataDir: dir, labelFile: IEMOCAP_LABELS };
    const fromPkl = loadDataset({ ...opts, features: { audio: "pkl-a", text: "pkl-t", video: "pkl-v" } });
    for (const [vid, v] of fromNpy.videos) {
      for (const m of ["a", "t", "v"] as const) assert.deepEqual(fromPkl.videos.get(vid)!.features[m], v.features[m], `${vid} ${m}`);
    }
  });

  test("IEMOCAP without the label file cannot be converted (the speakers are in it)", () => {
    assert.throws(
      () => convertNpyFolder({ from: join(dir, "features", "npy-a"), to: join(root, "x.pkl"), dataset: "IEMOCAPSix" }),
      /IEMOCAPSix needs its label file/,
    );
    assert.throws(
      () => convertNpyFolder({ from: join(dir, "features", "npy-a"), to: join(root, "x.pkl"), labelFile: IEMOCAP_LABELS, dataset: "CMUMOSI" }),
      /dataset CMUMOSI needs a sentiment label file \(7 items\)/,
    );
  });
});

describe("bad .npy folders: the specific error, naming the file", () => {
  let labelFile: string;
  let good: string;
  before(() => {
    labelFile = join(root, "small_labels.pkl");
    writeSentimentLabels(labelFile, { v1: ["v1_1", "v1_2"], v2: ["v2_1"] });
    good = join(root, "good");
    writeNpy(join(good, "v1_1.npy"), { descr: "<f4", shape: [3], data: vec(0, 0) });
    writeNpy(join(good, "v1_2.npy"), { descr: "<f4", shape: [2, 3], data: [...vec(1, 0), ...vec(1, 1)] });
    writeNpy(join(good, "v2_1.npy"), { descr: "<f8", shape: [3], data: vec(2, 0) });
    writeNpy(join(good, "extra_1.npy"), { descr: "<f4", shape: [3], data: vec(3, 0) }); // not in the label file: ignored
  });

  /** The good folder's three utterances, then `edit`. */
  let copies = 0;
  const variant = (edit: (dir: string) => void): string => {
    const dir = join(root, `variant-${copies++}`);
    mkdirSync(dir);
    writeNpy(join(dir, "v1_1.npy"), { descr: "<f4", shape: [3], data: vec(0, 0) });
    writeNpy(join(dir, "v1_2.npy"), { descr: "<f4", shape: [2, 3], data: [...vec(1, 0), ...vec(1, 1)] });
    writeNpy(join(dir, "v2_1.npy"), { descr: "<f8", shape: [3], data: vec(2, 0) });
    edit(dir);
    return dir;
  };
  const read = (dir: string) => readNpyFeatureFolder(dir, { labels: readLabelFile(labelFile) });

  const fails = (dir: string, cls: new (...a: never[]) => DssrError, pattern: RegExp, file: string) =>
    assert.throws(() => read(dir), (e: unknown) => {
      assert.ok(e instanceof cls, `${cls.name} expected, got ${String(e)}`);
      assert.match(e.message, pattern);
      assert.equal(e.file, file);
      return true;
    });

  test("the good folder reads in label order and ignores files the label file does not name", () => {
    const f = read(good);
    assert.deepEqual(asArrays(f.host), new Map([["v1_1", vec(0, 0)], ["v1_2", mean(vec(1, 0), vec(1, 1))], ["v2_1", vec(2, 0)]]));
  });

  test("a missing utterance names the id, the folder, its video and the label file", () => {
    const dir = variant((d) => rmSync(join(d, "v2_1.npy")));
    fails(dir, MissingUtteranceError,
      new RegExp(`^feature folder ${dir} lacks utterance 'v2_1' \\(neither v2_1\\.npy nor a folder v2_1/ is there; video 'v2', named by label file ${labelFile}\\)$`),
      dir);
    // dssr predict's mode: the utterance is left out (that modality missing), the rest is read.
    const f = readNpyFeatureFolder(dir, { labels: readLabelFile(labelFile), missing: "skip" });
    assert.deepEqual([...f.host.keys()], ["v1_1", "v1_2"]);
    // ... which is how dssr predict reads a .npy folder in place of audio.pkl.
    const input = readPredictPickles({ labelFile, featureFiles: { a: join(dir, "audio.pkl") } });
    assert.deepEqual(input.skipped, ["v2/v2_1"]);
    assert.deepEqual(input.videos.map((v) => v.utterances.map((u) => [u.id, [...u.features.a!]])), [
      [["v1_1", vec(0, 0)], ["v1_2", mean(vec(1, 0), vec(1, 1))]],
      [],
    ]);
  });

  test("a vector of another length names that file and the one that fixed the dim", () => {
    const dir = variant((d) => writeNpy(join(d, "v1_2.npy"), { descr: "<f4", shape: [2, 4], data: new Array(8).fill(1) }));
    fails(dir, FeatureDimensionError,
      new RegExp(`^${join(dir, "v1_2.npy")} has vectors of length 4 \\(shape \\(2, 4\\)\\), but ${join(dir, "v1_1.npy")} has 3: .*\\(utterance 'v1_2'\\)$`),
      join(dir, "v1_2.npy"));
  });

  test("NaN and ±Inf name the file, the row and the position", () => {
    const nan = variant((d) => writeNpy(join(d, "v1_2.npy"), { descr: "<f4", shape: [2, 3], data: [1, 2, 3, 4, 5, NaN] }));
    fails(nan, NonFiniteFeatureError, new RegExp(`^${join(nan, "v1_2.npy")} has NaN at row 1, position 2 \\(utterance 'v1_2'\\)$`), join(nan, "v1_2.npy"));
    const inf = variant((d) => writeNpy(join(d, "v2_1.npy"), { descr: "<f2", shape: [3], data: [1, -Infinity, 0] }));
    fails(inf, NonFiniteFeatureError, new RegExp(`^${join(inf, "v2_1.npy")} has -Infinity at position 1 `), join(inf, "v2_1.npy"));
  });

  test("a truncated .npy and an object array are one FormatError naming the file", () => {
    const cut = variant((d) => {
      const b = npyBytes({ descr: "<f8", shape: [3], data: vec(2, 0) });
      writeFileSync(join(d, "v2_1.npy"), b.subarray(0, b.length - 3));
    });
    fails(cut, FormatError, new RegExp(`^truncated \\.npy file ${join(cut, "v2_1.npy")}: shape \\(3,\\) of '<f8' needs 24 data bytes, found 21$`), join(cut, "v2_1.npy"));
    const obj = variant((d) => writeNpy(join(d, "v1_1.npy"), { descr: "|O", shape: [3], raw: new TextEncoder().encode("\x80\x04]q\x00.") }));
    fails(obj, FormatError, new RegExp(`^${join(obj, "v1_1.npy")} holds a numpy object array \\('\\|O'\\)`), join(obj, "v1_1.npy"));
  });

  test("both <utt>.npy and <utt>/, and a 3-D array, are refused", () => {
    const both = variant((d) => writeNpy(join(d, "v1_1", "0.npy"), { descr: "<f4", shape: [3], data: [1, 2, 3] }));
    fails(both, FormatError, /has both v1_1\.npy and a folder v1_1\/ for utterance 'v1_1'; keep one/, join(both, "v1_1"));
    const cube = variant((d) => writeNpy(join(d, "v1_2.npy"), { descr: "<f4", shape: [2, 2, 3], data: new Array(12).fill(0) }));
    fails(cube, FormatError, /v1_2\.npy has shape \(2, 2, 3\): expected a vector \(dim,\) or a time × dim matrix/, join(cube, "v1_2.npy"));
  });

  test("an IEMOCAP face file whose name holds neither F nor M", () => {
    const lf = join(root, "small_emotion.pkl");
    writeEmotionLabels(lf, { Ses01F_x: [["Ses01F_x_F000", "F"], ["Ses01F_x_M000", "M"]] });
    const dir = join(root, "faces-unnamed");
    writeNpy(join(dir, "Ses01F_x_F000.npy"), { descr: "<f4", shape: [3], data: vec(0, 0) });
    writeNpy(join(dir, "Ses01F_x_M000", "face_001.npy"), { descr: "<f4", shape: [3], data: vec(1, 0) });
    assert.throws(() => readNpyFeatureFolder(dir, { labels: readLabelFile(lf) }), (e: unknown) =>
      e instanceof FormatError && e.file === join(dir, "Ses01F_x_M000", "face_001.npy") && /does not say whose it is/.test(e.message));
  });

  test("a folder with no rows anywhere, and a folder that is not there", () => {
    const dir = join(root, "empty-faces");
    mkdirSync(join(dir, "v1_1"), { recursive: true }); // a face folder with no face: no dim to make zeros of
    mkdirSync(join(dir, "v1_2"));
    assert.throws(() => readNpyFeatureFolder(dir), (e: unknown) => e instanceof FormatError && /holds no feature vectors/.test(e.message));
    assert.throws(() => readNpyFeatureFolder(join(root, "nowhere")), (e: unknown) =>
      e instanceof FileError && e.message === `feature folder not found: ${join(root, "nowhere")}`);
  });
});

describe("which layout a feature folder is read in", () => {
  test("the pickle when it is there, else the folder's .npy files, else a FileError", () => {
    const features = join(root, "rule", "features");
    const npyOnly = join(features, "npy-only");
    writeNpy(join(npyOnly, "u1.npy"), { descr: "<f4", shape: [3], data: [1, 2, 3] });
    const faceOnly = join(features, "faces-only");
    writeNpy(join(faceOnly, "u1", "compress_F.npy"), { descr: "<f4", shape: [3], data: [1, 2, 3] });
    const both = join(features, "both");
    writeNpy(join(both, "u1.npy"), { descr: "<f4", shape: [3], data: [1, 2, 3] });
    writePickle(join(both, "audio.pkl"), tuple(new Map<PickleIn, PickleIn>([["u1", Float32Array.from([7, 8, 9])]]), 3n));
    const neither = join(features, "neither");
    mkdirSync(join(neither, "sub"), { recursive: true });
    writeFileSync(join(neither, "notes.txt"), "");

    assert.deepEqual(featureSource(join(npyOnly, "audio.pkl")), { kind: "npy", path: npyOnly });
    assert.deepEqual(featureSource(join(faceOnly, "video.pkl")), { kind: "npy", path: faceOnly });
    assert.deepEqual(featureSource(join(both, "audio.pkl")), { kind: "pickle", path: join(both, "audio.pkl") });
    assert.equal(featureSource(join(neither, "audio.pkl")), null);
    assert.equal(isNpyFeatureFolder(join(features, "absent")), false);
    assert.deepEqual([...readFeatureSource(join(both, "audio.pkl")).host.get("u1")!], [7, 8, 9], "the pickle wins");
    assert.deepEqual([...readFeatureSource(join(npyOnly, "audio.pkl")).host.get("u1")!], [1, 2, 3]);
    assert.throws(() => readFeatureSource(join(neither, "text.pkl")), (e: unknown) =>
      e instanceof FileError && e.message === `feature file not found: ${join(neither, "text.pkl")} (and ${neither} holds no .npy files either)`);
  });

  test("dssr train's pre-checks accept a .npy folder and still name a folder that has neither", () => {
    const dataDir = join(root, "precheck");
    mkdirSync(dataDir);
    writeSentimentLabels(join(dataDir, "CMUMOSI_features_raw_2way.pkl"), { v1: ["u1"], v2: ["u2"] });
    for (const name of ["A", "T", "V"]) writeNpy(join(dataDir, "features", name, "u1.npy"), { descr: "<f4", shape: [3], data: [1, 2, 3] });
    mkdirSync(join(dataDir, "features", "empty"));
    const config = (video: string) => resolveTrainConfig({ dataset: "CMUMOSI", dataDir, features: { audio: "A", text: "T", video } });
    checkTrainInputs(config("V"));
    assert.throws(() => checkTrainInputs(config("empty")), (e: unknown) =>
      e instanceof FileError && /^video feature file not found: .*features\/empty\/video\.pkl \(nor \.npy files in its folder; --video-feature 'empty'; folders in .*: A, T, V, empty\)$/.test(e.message));
  });
});
