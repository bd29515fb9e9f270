/**
 * The missing-rate masks (data/missing.ts): the fraction of missing (utterance, modality) cells
 * is r (within a tolerance from the binomial standard deviation), every utterance keeps at least
 * one modality, r = 0 drops nothing, the masks are a function of (seed, utterance id) only — same
 * seed same masks, another seed other masks, any order of asking — and they nest over rates.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readLabelFile } from "../../src/data/labels.js";
import {
  datasetMasks, DEFAULT_MISSING_RATES, effectiveMissingRate, maskBatch, MAX_MISSING_FRACTION, missingFraction,
  missingThreshold, parseMissingRates, utteranceMask,
} from "../../src/data/missing.js";
import { mulberry32, shuffled } from "../../src/data/rng.js";
import { MODALITIES, type Batch, type Dataset } from "../../src/data/types.js";
import { DATA } from "../helpers/paths.js";

const MOSI_IDS = [...readLabelFile(join(DATA, "CMUMOSI", "CMUMOSI_features_raw_2way.pkl")).videoIds.values()].flat();
/** A large generated set, ids shaped like the releases' (video id + utterance index). */
const MANY_IDS = Array.from({ length: 30000 }, (_, i) => `gen${(i * 7919) % 3001}_v${Math.floor(i / 11)}[${i % 11}]`);
const RATES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 2 / 3, 0.7, 1];

/** Missing cells per utterance K ∈ {0, 1, 2}: its variance under the scheme at threshold q. */
function varianceOfMissingCount(q: number): number {
  const p1 = 3 * q * (1 - q) ** 2;
  const p2 = 3 * q ** 2 * (1 - q) + q ** 3; // three below q: one comes back
  const mean = p1 + 2 * p2;
  return p1 + 4 * p2 - mean ** 2;
}

function countMissing(ids: readonly string[], seed: number, rate: number) {
  let missing = 0;
  let fewest = 3;
  const perModality = { a: 0, t: 0, v: 0 };
  for (const id of ids) {
    const m = utteranceMask(seed, rate, id);
    for (const k of MODALITIES) {
      assert.ok(m[k] === 0 || m[k] === 1);
      if (m[k] === 0) perModality[k]++;
    }
    const kept = m.a + m.t + m.v;
    missing += 3 - kept;
    fewest = Math.min(fewest, kept);
  }
  return { fraction: missing / (3 * ids.length), fewest, perModality };
}

test("the threshold solves q − q³/3 = r, and is 0 at r = 0 and 1 from r = 2/3", () => {
  assert.equal(missingThreshold(0), 0);
  for (const r of [0.05, 0.1, 0.3, 0.5, 0.6, 0.66]) {
    const q = missingThreshold(r);
    assert.ok(Math.abs(q - q ** 3 / 3 - r) < 1e-12, `r ${r}: q ${q}`);
  }
  for (const r of [2 / 3, 0.7, 1]) assert.equal(missingThreshold(r), 1);
  assert.equal(effectiveMissingRate(0.7), MAX_MISSING_FRACTION);
  assert.equal(effectiveMissingRate(0.4), 0.4);
});

for (const [name, ids] of [["real CMU-MOSI (2199 utterances)", MOSI_IDS], ["30000 generated ids", MANY_IDS]] as const) {
  test(`${name}: the missing fraction is r within 4 binomial standard deviations; every utterance keeps one`, () => {
    if (name.startsWith("real")) assert.equal(ids.length, 2199);
    const lines: string[] = [];
    for (const seed of [66, 67]) {
      for (const rate of RATES) {
        const { fraction, fewest, perModality } = countMissing(ids, seed, rate);
        const r = effectiveMissingRate(rate);
        const sd = Math.sqrt(varianceOfMissingCount(missingThreshold(rate)) / ids.length) / 3;
        assert.ok(Math.abs(fraction - r) <= 4 * sd + 1e-12, `seed ${seed}, rate ${rate}: fraction ${fraction}, sd ${sd}`);
        assert.ok(fewest >= 1, `seed ${seed}, rate ${rate}: an utterance lost every modality`);
        // Each modality on its own is missing at rate r too (the scheme is symmetric).
        for (const m of MODALITIES) {
          const p = perModality[m] / ids.length;
          const sdm = Math.sqrt((r * (1 - r)) / ids.length);
          assert.ok(Math.abs(p - r) <= 4 * sdm + 1e-12, `seed ${seed}, rate ${rate}, modality ${m}: ${p}`);
        }
        if (rate === 0) assert.equal(fraction, 0);
        if (seed === 66) lines.push(`${rate.toFixed(2)}→${fraction.toFixed(4)}`);
      }
    }
    console.log(`# ${name}, seed 66, rate→missing fraction: ${lines.join(" ")}`);
  });
}

test("r = 0 keeps everything; r ≥ 2/3 keeps exactly one modality, each about a third of the time", () => {
  const kept = { a: 0, t: 0, v: 0 };
  for (const id of MANY_IDS) {
    assert.deepEqual(utteranceMask(5, 0, id), { a: 1, t: 1, v: 1 });
    const m = utteranceMask(5, 0.7, id);
    assert.equal(m.a + m.t + m.v, 1);
    for (const k of MODALITIES) kept[k] += m[k];
  }
  for (const k of MODALITIES) assert.ok(Math.abs(kept[k] / MANY_IDS.length - 1 / 3) < 0.02, `${k}: ${kept[k]}`);
});

test("same seed → same masks; another seed → other masks; the order of asking does not matter", () => {
  const key = (seed: number, ids: readonly string[]) => ids.map((id) => Object.values(utteranceMask(seed, 0.4, id)).join("")).join(",");
  const a = key(66, MOSI_IDS);
  assert.equal(key(66, MOSI_IDS), a);
  const b = key(67, MOSI_IDS).split(",");
  const differ = a.split(",").filter((x, i) => x !== b[i]).length / MOSI_IDS.length;
  // Independent masks at r = 0.4 differ on about 60% of the utterances.
  assert.ok(differ > 0.4, `only ${differ} of the masks differ between seeds 66 and 67`);
  // Asked in a shuffled order (and interleaved with another seed), each utterance gets the same mask.
  const order = shuffled(MOSI_IDS.map((_, i) => i), mulberry32(3));
  const got: string[] = new Array(MOSI_IDS.length);
  for (const i of order) {
    utteranceMask(67, 0.4, MOSI_IDS[i]);
    got[i] = Object.values(utteranceMask(66, 0.4, MOSI_IDS[i])).join("");
  }
  assert.equal(got.join(","), a);
});

test("datasetMasks: per video, independent of which videos are asked for and in what order; nested over rates", () => {
  const videos = new Map<string, { utteranceIds: string[] }>();
  for (let v = 0; v < 200; v++) videos.set(`vid${v}`, { utteranceIds: Array.from({ length: 1 + (v % 9) }, (_, u) => `vid${v}_${u}`) });
  const dataset = { videos, sources: { labels: "test" } } as unknown as Dataset;
  const all = datasetMasks(dataset, 9, 0.5);
  const ids = [...videos.keys()];
  const some = datasetMasks(dataset, 9, 0.5, shuffled(ids, mulberry32(1)).slice(0, 50));
  for (const [id, m] of some) assert.deepEqual(m, all.get(id));
  for (const [id, m] of all) {
    const want = videos.get(id)!.utteranceIds.flatMap((u) => Object.values(utteranceMask(9, 0.5, u)));
    assert.deepEqual([...m], want);
  }
  // Nested: a cell missing at a lower rate stays missing at every higher one.
  let prev = datasetMasks(dataset, 9, 0);
  for (const rate of DEFAULT_MISSING_RATES.slice(1)) {
    const next = datasetMasks(dataset, 9, rate);
    for (const [id, m] of prev) m.forEach((x, k) => assert.ok(!(x === 0 && next.get(id)![k] === 1), `${id} cell ${k} at ${rate}`));
    assert.ok(missingFraction(next) >= missingFraction(prev));
    prev = next;
  }
});

test("maskBatch zeroes exactly the missing cells' features, leaves the input alone, and marks padding available", () => {
  const dims = { a: 2, t: 3, v: 1 };
  const [B, S] = [3, 4];
  const features = { a: new Float32Array(B * S * 2).fill(5), t: new Float32Array(B * S * 3).fill(6), v: new Float32Array(B * S).fill(7) };
  const batch: Batch = {
    B, S, features, umask: Float32Array.from({ length: B * S }, (_, i) => (i < 4 + 2 ? 1 : 0)), qmask: new Float32Array(B * S),
    labels: new Float32Array(B * S), videoIds: ["x", "y", null], lengths: [4, 2, 0],
  };
  const masks = new Map([
    ["x", Uint8Array.from([1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 1])],
    ["y", Uint8Array.from([0, 1, 1, 1, 1, 0])],
  ]);
  const { batch: out, mask } = maskBatch(batch, dims, masks);
  const want = new Float32Array(B * S * 3).fill(1);
  want.set(masks.get("x")!, 0);
  want.set(masks.get("y")!, S * 3);
  assert.deepEqual([...mask], [...want]);
  MODALITIES.forEach((m, j) => {
    for (let pos = 0; pos < B * S; pos++) {
      const cell = [...out.features[m].slice(pos * dims[m], (pos + 1) * dims[m])];
      const value = mask[pos * 3 + j] === 0 ? 0 : features[m][pos * dims[m]];
      assert.deepEqual(cell, Array(dims[m]).fill(value), `${m} at ${pos}`);
    }
  });
  assert.ok(features.a.every((x) => x === 5), "the input batch is not modified");
});

test("parseMissingRates: a checked list", () => {
  assert.deepEqual(parseMissingRates("0, 0.1,0.7"), [0, 0.1, 0.7]);
  assert.throws(() => parseMissingRates("0.1,1.5"), /\[0, 1\]/);
  assert.throws(() => parseMissingRates("0.1,0.1"), /twice/);
  assert.throws(() => parseMissingRates("a"), /not a number/);
  assert.throws(() => parseMissingRates(""), /comma-separated/);
});
