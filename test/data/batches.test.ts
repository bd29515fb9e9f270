// Padded batches (spec §1.2): fixed B and S, zero padding, umask/qmask/labels, seeded shuffles.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/paths.js";
import { ConfigError } from "../../src/errors.js";
import { makeBatches, mulberry32, paddedLength } from "../../src/data/batches.js";
import { loadDataset } from "../../src/data/dataset.js";
import { writeSyntheticDataset, SYNTHETIC_FEATURES } from "../../src/data/synthetic.js";
import { MODALITIES, type Batch, type Dataset } from "../../src/data/types.js";

const mini = (): Dataset =>
  loadDataset({
    name: "IEMOCAPFour",
    dataDir: join(REPO, "test", "fixtures", "iemocap-mini"),
    features: { audio: "mini", text: "mini", video: "mini" },
  });

test("mulberry32 matches an independent implementation", () => {
  // Values from a Python port of the same algorithm.
  const r = mulberry32(42);
  assert.deepEqual([r(), r(), r()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  const r1 = mulberry32(1);
  assert.deepEqual([r1(), r1(), r1()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
});

test("lastBatchMultiple: a short last batch is padded only to a multiple of it, never past batchSize", () => {
  const ds = mini();
  const ids = [...ds.videos.keys()]; // 2 dialogues
  const [full] = makeBatches(ds, ids, { batchSize: 3 });
  const [short] = makeBatches(ds, ids, { batchSize: 3, lastBatchMultiple: 1 });
  assert.deepEqual([full.B, short.B], [3, 2]);
  assert.deepEqual(short.videoIds, ids);
  // The real rows are the same bytes as in the fully padded batch.
  assert.deepEqual(short.umask, full.umask.subarray(0, 2 * 8));
  assert.deepEqual(short.features.t, full.features.t.subarray(0, short.features.t.length));
  assert.deepEqual(makeBatches(ds, ids, { batchSize: 32, lastBatchMultiple: 4 }).map((b) => [b.B, b.lengths.length]), [[4, 4]]);
  assert.deepEqual(makeBatches(ds, ids, { batchSize: 3, lastBatchMultiple: 4 }).map((b) => b.B), [3]);
  assert.throws(() => makeBatches(ds, ids, { batchSize: 2, lastBatchMultiple: 0 }), ConfigError);
});

test("a short batch is filled with padding rows; every padding position is zero", () => {
  const ds = mini();
  assert.equal(paddedLength(ds), 8); // longest dialogue 3 → 8
  const [b, ...rest] = makeBatches(ds, ["Ses01F_impro01", "Ses02M_script01"], { batchSize: 3 });
  assert.equal(rest.length, 0);
  assert.equal(b.B, 3);
  assert.equal(b.S, 8);
  assert.deepEqual(b.videoIds, ["Ses01F_impro01", "Ses02M_script01", null]);
  assert.deepEqual(b.lengths, [3, 2, 0]);
  const row = (a: Float32Array, i: number, d = 1): number[] => Array.from(a.subarray(i * 8 * d, (i + 1) * 8 * d));
  assert.deepEqual(row(b.umask, 0), [1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.umask, 1), [1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.umask, 2), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.qmask, 0), [0, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.qmask, 1), [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.labels, 0), [0, 1, 2, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.labels, 1), [3, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(row(b.features.a, 0, 2), [100, 100, 201, 201, 102, 102, ...new Array(10).fill(0)]);
  assert.deepEqual(row(b.features.v, 1, 2), [20, 20, 104, 104, ...new Array(12).fill(0)]);
  assert.ok(row(b.features.t, 2, 3).every((x) => x === 0));
  const wide = makeBatches(ds, ["Ses02M_script01"], { batchSize: 1, padTo: 16 })[0];
  assert.equal(wide.S, 16);
  assert.equal(wide.features.t.length, 16 * 3);
  assert.throws(() => makeBatches(ds, ["Ses01F_impro01"], { batchSize: 1, padTo: 2 }), ConfigError);
  assert.throws(() => makeBatches(ds, ["Ses01F_impro01"], { batchSize: 0 }), ConfigError);
  assert.throws(() => makeBatches(ds, ["nope"], { batchSize: 1 }), /video 'nope' is not in the dataset/);
});

test("synthetic MOSI-like data: fixed shapes, zero padding, seeded shuffles", () => {
  const dir = mkdtempSync(join(tmpdir(), "dssr-batches-"));
  try {
    writeSyntheticDataset(dir, { seed: 3, videos: 40, minUtterances: 3, maxUtterances: 11 });
    const ds = loadDataset({ name: "CMUMOSI", dataDir: dir, features: SYNTHETIC_FEATURES });
    const S = paddedLength(ds);
    const longest = Math.max(...[...ds.videos.values()].map((v) => v.utteranceIds.length));
    assert.equal(S, Math.ceil(longest / 8) * 8);
    assert.equal(S % 8, 0);
    const ids = [...ds.videos.keys()];
    const batches = makeBatches(ds, ids, { batchSize: 16 });
    assert.equal(batches.length, 3);
    for (const b of batches) {
      assert.equal(b.B, 16);
      assert.equal(b.S, S);
      assert.equal(b.umask.length, 16 * S);
      for (const m of MODALITIES) assert.equal(b.features[m].length, 16 * S * ds.dims[m]);
    }
    assert.deepEqual(batches.flatMap((b) => b.videoIds).filter((x) => x !== null), ids); // given order kept
    assert.equal(batches[2].videoIds.filter((x) => x === null).length, 8);
    const total = batches.reduce((s, b) => s + b.umask.reduce((a, x) => a + x, 0), 0);
    assert.equal(total, [...ds.videos.values()].reduce((s, v) => s + v.utteranceIds.length, 0));
    for (const b of batches) assertPaddingZero(b, ds);
    // Each valid row holds its video's values.
    const v0 = ds.videos.get(ids[0])!;
    assert.deepEqual(Array.from(batches[0].features.t.subarray(0, v0.features.t.length)), Array.from(v0.features.t));
    assert.deepEqual(Array.from(batches[0].labels.subarray(0, v0.labels.length)), Array.from(v0.labels, Math.fround));

    const order = (o: { shuffleSeed?: number; rng?: () => number }): (string | null)[] =>
      makeBatches(ds, ids, { batchSize: 16, ...o }).flatMap((b) => b.videoIds);
    const a = order({ shuffleSeed: 5 });
    assert.deepEqual(order({ shuffleSeed: 5 }), a);
    assert.notDeepEqual(order({ shuffleSeed: 6 }), a);
    assert.notDeepEqual(a.filter((x) => x !== null), ids);
    assert.deepEqual(a.filter((x) => x !== null).sort(), [...ids].sort());
    const rng = mulberry32(5);
    const epoch1 = order({ rng });
    assert.deepEqual(epoch1, a); // same generator state as shuffleSeed 5
    assert.notDeepEqual(order({ rng }), epoch1); // the next epoch draws a new order
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function assertPaddingZero(b: Batch, ds: Dataset): void {
  for (let i = 0; i < b.B * b.S; i++) {
    if (b.umask[i] === 1) continue;
    assert.equal(b.qmask[i], 0);
    assert.equal(b.labels[i], 0);
    for (const m of MODALITIES) {
      const d = ds.dims[m];
      for (let j = 0; j < d; j++) assert.equal(b.features[m][i * d + j], 0);
    }
  }
}
