import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataset } from "../../src/data/types.js";
import { DssrError, FileError } from "../../src/errors.js";
import { selectEpochs } from "../../src/eval/selection.js";
import {
  RESULTS_FORMAT,
  type ResultsJson,
  dssrVersion,
  readResults,
  summarizeDataset,
  summarizeTimings,
  writeJsonAtomic,
} from "../../src/report/results.js";
import { REPO } from "../helpers/paths.js";
import { mosiConfig, record, reg } from "../eval/records.js";

async function withDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "dssr-results-"));
  try {
    await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sampleResults(): ResultsJson {
  const history = [
    record(0, 1, reg(0.6, 0.55), reg(0.6, 0.6)),
    record(1, 1, reg(NaN, NaN, { corr: NaN }), reg(0.7, 0.7)),
    record(2, 1, reg(0.8, 0.79, { maeAll: 0.9, corrAll: 0.4 }), reg(0.65, 0.6)),
  ];
  return {
    format: RESULTS_FORMAT,
    dssrVersion: dssrVersion(),
    createdAt: "2026-01-01T00:00:00.000Z",
    config: mosiConfig,
    dataset: {
      name: "CMUMOSI", task: "regression", nClasses: 1, dims: { a: 3, t: 4, v: 5 },
      videos: { train: 2, val: 1, test: 1 }, utterances: { train: 5, val: 1, test: 2 },
      sources: { labels: "l.pkl", a: "A", t: "T", v: "V" },
    },
    history,
    selections: selectEpochs(history),
    timings: summarizeTimings(history, 7.5, 1.25),
    peakRssMB: 512.5,
  };
}

test("writeJsonAtomic writes the whole document and leaves no temporary file", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "results.json");
    await writeJsonAtomic(path, { a: 1 });
    await writeJsonAtomic(path, { b: [1, 2] }); // replaces
    assert.equal(await readFile(path, "utf8"), '{\n  "b": [\n    1,\n    2\n  ]\n}\n');
    assert.deepEqual(await readdir(dir), ["results.json"]);
  });
});

test("a serialisation error leaves no file, no temporary file, and the old file intact", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "results.json");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(writeJsonAtomic(path, cyclic), TypeError);
    await assert.rejects(writeJsonAtomic(path, { n: 1n }), TypeError);
    await assert.rejects(writeJsonAtomic(path, undefined), TypeError);
    assert.deepEqual(await readdir(dir), []);

    await writeJsonAtomic(path, { old: true });
    await assert.rejects(writeJsonAtomic(path, cyclic), TypeError);
    assert.deepEqual(await readdir(dir), ["results.json"]);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), { old: true });
  });
});

test("a filesystem failure is a FileError naming the path, with the temporary file removed", async () => {
  await withDir(async (dir) => {
    const missing = join(dir, "nope", "results.json");
    await assert.rejects(writeJsonAtomic(missing, {}), (e: unknown) =>
      e instanceof FileError && e.file === missing && e.message.includes(missing));
    // The target is a non-empty directory: the rename fails after the temporary file was written.
    const target = join(dir, "results.json");
    await mkdir(target);
    await writeFile(join(target, "x"), "");
    await assert.rejects(writeJsonAtomic(target, { a: 1 }), FileError);
    assert.deepEqual(await readdir(dir), ["results.json"]);
  });
});

test("results round-trip; NaN metrics are written as null and read back as NaN", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "results.json");
    const doc = sampleResults();
    await writeJsonAtomic(path, doc);
    const raw = JSON.parse(await readFile(path, "utf8"));
    assert.equal(raw.history[1].test.acc2, null);
    const back = await readResults(path);
    assert.ok(Number.isNaN(back.history[1].test.kind === "regression" ? back.history[1].test.corr : 0));
    assert.deepEqual(back, doc); // deepEqual treats NaN as equal to NaN
    assert.equal(back.selections.paper.epoch, 2);
    assert.equal(back.history[0].trainLoss.rec, null);
  });
});

test("readResults names the file and the problem for a bad document", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "results.json");
    const bad = async (doc: unknown, pattern: RegExp): Promise<void> => {
      await writeFile(path, typeof doc === "string" ? doc : JSON.stringify(doc));
      await assert.rejects(readResults(path), (e: unknown) => {
        assert.ok(e instanceof DssrError, String(e));
        assert.equal(e.file, path);
        assert.ok(e.message.includes(path), e.message);
        assert.match(e.message, pattern);
        return true;
      });
    };
    await bad("{ not json", /not valid JSON/);
    await bad([], /document is an array, expected an object/);
    await bad({ ...sampleResults(), format: "dssr-results/0" }, /format is "dssr-results\/0", expected "dssr-results\/1"/);
    const noLast = sampleResults() as unknown as { selections: Record<string, unknown> };
    delete noLast.selections.last;
    await bad(noLast, /selections\.last is missing, expected an object/);
    const badMetric = sampleResults() as unknown as { history: { test: Record<string, unknown> }[] };
    badMetric.history[2].test.f1 = "0.79";
    await bad(badMetric, /history\[2\]\.test\.f1 is "0\.79", expected a number/);
    await bad({ ...sampleResults(), history: [] }, /history is empty/);
    await bad({ ...sampleResults(), config: { ...mosiConfig, condition: "ta" } }, /config\.condition is "ta"/);
    await assert.rejects(readResults(join(dir, "missing.json")), FileError);
  });
});

test("summaries: dataset counts per split, mean seconds per stage, package version", async () => {
  const video = (id: string, n: number) => ({
    id, utteranceIds: Array.from({ length: n }, (_, i) => `${id}_${i}`), labels: new Float64Array(n),
    speakers: new Uint8Array(n), features: { a: new Float32Array(0), t: new Float32Array(0), v: new Float32Array(0) },
  });
  const ds: Dataset = {
    name: "CMUMOSI", task: "regression", nClasses: 1, dims: { a: 3, t: 4, v: 5 },
    videos: new Map([["v1", video("v1", 2)], ["v2", video("v2", 3)], ["v3", video("v3", 1)], ["v4", video("v4", 4)]]),
    splits: { train: ["v1", "v2"], val: ["v3"], test: ["v4"] },
    sources: { labels: "l.pkl", a: "A", t: "T", v: "V" },
  };
  assert.deepEqual(summarizeDataset(ds), {
    name: "CMUMOSI", task: "regression", nClasses: 1, dims: { a: 3, t: 4, v: 5 },
    videos: { train: 2, val: 1, test: 1 }, utterances: { train: 5, val: 1, test: 4 },
    sources: { labels: "l.pkl", a: "A", t: "T", v: "V" },
  });

  const h = [record(0, 2, reg(0.5, 0.5), null), record(1, 2, reg(0.5, 0.5), null), record(2, 2, reg(0.5, 0.5), null)];
  h[0].seconds = 3;
  h[1].seconds = 5;
  h[2].seconds = 10;
  assert.deepEqual(summarizeTimings(h, 20), { stage1SecondsPerEpoch: 4, stage2SecondsPerEpoch: 10, totalSeconds: 20 });
  assert.deepEqual(summarizeTimings(h.slice(0, 1), 3, 0.5), {
    stage1SecondsPerEpoch: 3, stage2SecondsPerEpoch: null, totalSeconds: 3, compileSeconds: 0.5,
  });

  const pkg = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
  assert.equal(dssrVersion(), pkg.version);
});
