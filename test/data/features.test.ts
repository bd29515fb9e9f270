// Feature files: the three real CMU-MOSI ones (parsed once each), F/M slots, pooling, rejections.
// Expected values were read with CPython's pickle + numpy 2.4 and cross-checked against the raw
// bc-LSTM CSVs, whose first training row is utterance 1DmNV9C1hbY_10.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { DATA, REPO } from "../helpers/paths.js";
import { FeatureDimensionError, FileError, NonFiniteFeatureError } from "../../src/errors.js";
import { readFeatureFile } from "../../src/data/features.js";
import type { FeatureFile } from "../../src/data/types.js";

const FIX = join(REPO, "test", "fixtures");
const FEAT = join(DATA, "CMUMOSI", "features");
const RAW = join(DATA, "raw", "bc-LSTM-MOSI", "data");
const files = {
  audio: join(FEAT, "bclstm-opensmile-UTT", "audio.pkl"),
  text: join(FEAT, "bclstm-textcnn-UTT", "text.pkl"),
  video: join(FEAT, "bclstm-3dcnn-UTT", "video.pkl"),
};
const parsed = new Map<string, FeatureFile>();
const mosi = (m: keyof typeof files): FeatureFile => {
  if (!parsed.has(m)) parsed.set(m, readFeatureFile(files[m]));
  return parsed.get(m)!;
};

/** The first row of a bc-LSTM CSV: `dim` feature values then the binary label. */
function firstCsvRow(path: string): number[] {
  const buf = Buffer.alloc(4096);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const line = buf.toString("utf8").split("\n")[0];
  return line.split(",").map((s) => Number(s.replace(/"/g, "")));
}

test("CMU-MOSI feature files: dims 73/100/100, 2199 utterances, exact values", () => {
  const expect = {
    audio: { dim: 73, first: [211.08999633789062, 0.6156200170516968], last: -0.011667000129818916, zh: 212.8300018310547 },
    text: { dim: 100, first: [-0.5717840194702148, 0.39339199662208557], last: -0.1878580003976822, zh: -0.0045057800598442554 },
    video: { dim: 100, first: [0, 1.3862799406051636], last: 0, zh: 0 },
  } as const;
  for (const m of ["audio", "text", "video"] as const) {
    const f = mosi(m);
    const e = expect[m];
    assert.equal(f.file, files[m]);
    assert.equal(f.dim, e.dim);
    assert.equal(f.host.size, 2199);
    assert.equal(f.guest, undefined, "MOSI has one speaker: host only");
    assert.equal([...f.host.keys()][0], "1DmNV9C1hbY_10");
    assert.equal([...f.host.keys()].at(-1), "vyB00TXsimI_9");
    const v = f.host.get("03bSnISJMiM_1")!;
    assert.ok(v instanceof Float32Array);
    assert.equal(v.length, e.dim);
    assert.deepEqual([v[0], v[1]], e.first);
    assert.equal(v[e.dim - 1], e.last);
    assert.equal(f.host.get("zhpQhgha_KU_1")![0], e.zh);
  }
  // Video features are non-negative; audio is unnormalised openSMILE (about -12..376).
  let min = Infinity;
  let max = -Infinity;
  for (const v of mosi("audio").host.values()) for (const x of v) (min = Math.min(min, x)), (max = Math.max(max, x));
  assert.equal(Math.fround(min), Math.fround(-11.799));
  assert.equal(Math.fround(max), Math.fround(376.02));
});

test("CMU-MOSI features equal the bc-LSTM CSVs they came from (first training row = 1DmNV9C1hbY_10)", () => {
  const csv = {
    audio: join(RAW, "audio", "audio_train0.csv"),
    text: join(RAW, "text", "text_train0.csv"),
    video: join(RAW, "video", "video_train0.csv"),
  };
  for (const m of ["audio", "text", "video"] as const) {
    const row = firstCsvRow(csv[m]);
    const f = mosi(m);
    assert.equal(row.length, f.dim + 1);
    assert.deepEqual(Array.from(f.host.get("1DmNV9C1hbY_10")!), row.slice(0, f.dim).map(Math.fround), m);
  }
});

test("IEMOCAP-style {'F', 'M'} values fill host and guest; a time × dim value is mean-pooled", () => {
  const dir = join(FIX, "iemocap-mini", "features", "mini");
  const audio = readFeatureFile(join(dir, "audio.pkl"));
  assert.equal(audio.dim, 2);
  assert.ok(audio.guest);
  assert.deepEqual(Array.from(audio.host.get("Ses01F_impro01_M000")!), [101, 101]);
  assert.deepEqual(Array.from(audio.guest.get("Ses01F_impro01_M000")!), [201, 201]);
  const video = readFeatureFile(join(dir, "video.pkl"));
  assert.deepEqual(Array.from(video.guest!.get("Ses02M_script01_M000")!), [20, 20]); // mean of frames 10 and 30
  assert.deepEqual(Array.from(video.host.get("Ses02M_script01_M000")!), [103, 103]);
});

function rejects<E extends Error>(path: string, cls: new (...a: never[]) => E, pattern: RegExp): E {
  let caught: unknown;
  try {
    readFeatureFile(path);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  assert.match((caught as E).message, pattern);
  assert.ok((caught as E).message.includes(path), "the message names the file");
  return caught as E;
}

test("wrong length, NaN and a missing file raise their own error classes naming the utterance and file", () => {
  const dim = rejects(join(FIX, "features-wrong-dim.pkl"), FeatureDimensionError, /utterance 'vidA_2' has a vector of length 3, but the file declares dim 4/);
  assert.equal(dim.expected, 4);
  assert.equal(dim.got, 3);
  rejects(join(FIX, "features-nan.pkl"), NonFiniteFeatureError, /utterance 'vidA_3' has NaN at position 2/);
  rejects(join(FIX, "no-such-features.pkl"), FileError, /file not found/);
  const ok = readFeatureFile(join(FIX, "features-ok.pkl"));
  assert.deepEqual(Array.from(ok.host.get("vidA_2")!), [1, 1.5, -1, 1]);
});
