/**
 * buildTable({ from }) on hand-made results files: the exact Markdown and CSV of the paper's
 * Table 1 layout (Avg included), seeds as mean ± sample std, IEMOCAP folds averaged, and the
 * refusals that keep a table from averaging different things.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Condition, TrainConfig } from "../../src/config/types.js";
import { ConfigError } from "../../src/errors.js";
import { selectEpochs } from "../../src/eval/selection.js";
import type { EpochRecord } from "../../src/eval/types.js";
import { dssrVersion, RESULTS_FORMAT, summarizeTimings, type ResultsJson } from "../../src/report/results.js";
import { aggregateTable, formatTable, type TableRun } from "../../src/report/table.js";
import { buildTable } from "../../src/table.js";
import { cls, mosiConfig, record, reg } from "../eval/records.js";

const root = mkdtempSync(join(tmpdir(), "dssr-test-table-"));
after(() => rmSync(root, { recursive: true, force: true }));

function doc(config: TrainConfig, history: EpochRecord[], fold?: number): ResultsJson {
  const regression = config.dataset === "CMUMOSI" || config.dataset === "CMUMOSEI";
  const d: ResultsJson = {
    format: RESULTS_FORMAT,
    dssrVersion: dssrVersion(),
    createdAt: "2026-01-01T00:00:00.000Z",
    config,
    dataset: {
      name: config.dataset, task: regression ? "regression" : "classification", nClasses: regression ? 1 : 4,
      dims: { a: 3, t: 4, v: 5 }, videos: { train: 2, val: 1, test: 1 }, utterances: { train: 5, val: 1, test: 2 },
      sources: { labels: "l.pkl", a: "A", t: "T", v: "V" },
    },
    history,
    selections: selectEpochs(history),
    timings: summarizeTimings(history, 1),
    peakRssMB: 100,
  };
  if (fold !== undefined) d.fold = fold;
  return d;
}

function write(dir: string, d: ResultsJson): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "results.json"), JSON.stringify(d, null, 2));
}

/** MOSI-like: 4 epochs, stage 2 = epochs 3-4. Epoch 3 has the best test F1 (+2 points), epoch 4 the best val F1. */
function mosiHistory(acc: number, f1: number): EpochRecord[] {
  return [
    record(0, 2, reg(0.5, 0.5), reg(0.5, 0.5)),
    record(1, 2, reg(0.5, 0.5), reg(0.5, 0.5)),
    record(2, 2, reg(acc + 0.02, f1 + 0.02), reg(0.6, 0.6)),
    record(3, 2, reg(acc, f1), reg(0.7, 0.7)),
  ];
}

const MOSI: Record<Condition, [number, number]> = {
  a: [0.6, 0.55], t: [0.85, 0.84], v: [0.62, 0.61], av: [0.63, 0.62], at: [0.86, 0.85], tv: [0.87, 0.86], atv: [0.88, 0.87],
};

function writeMosi(dir: string, lr = 2e-4): void {
  for (const [c, [acc, f1]] of Object.entries(MOSI) as [Condition, [number, number]][]) {
    write(join(dir, c), doc({ ...mosiConfig, condition: c, lr, epochs: 4, stageEpoch: 2, out: join(dir, c) }, mosiHistory(acc, f1)));
  }
}

describe("a MOSI table from seven results files, one seed", () => {
  const dir = join(root, "mosi");
  writeMosi(dir);

  it("Markdown: one table per rule, each stating it; Avg = mean of the six missing conditions", async () => {
    const { table, trained, reused, written } = await buildTable({ from: dir });
    assert.deepEqual([trained, reused, written], [0, 7, []]);
    assert.equal(
      formatTable(table, "md"),
      [
        "# DSSR on CMUMOSI",
        "",
        "Test Acc-2/F1 (%); columns name the available modalities; Avg = mean of the six missing-modality conditions (atv excluded).",
        "One run per cell (seed 66).",
        "",
        "## Selection: paper protocol: best stage-2 epoch chosen on the test set (optimistic)",
        "",
        "| a | t | v | av | at | tv | Avg | atv |",
        "|---|---|---|---|---|---|---|---|",
        "| 62.00/57.00 | 87.00/86.00 | 64.00/63.00 | 65.00/64.00 | 88.00/87.00 | 89.00/88.00 | 75.83/74.17 | 90.00/89.00 |",
        "",
        "## Selection: validation selection: best stage-2 epoch on the validation split (the last epoch where there is none)",
        "",
        "| a | t | v | av | at | tv | Avg | atv |",
        "|---|---|---|---|---|---|---|---|",
        "| 60.00/55.00 | 85.00/84.00 | 62.00/61.00 | 63.00/62.00 | 86.00/85.00 | 87.00/86.00 | 73.83/72.17 | 88.00/87.00 |",
        "",
        "## Selection: last epoch: no selection",
        "",
        "| a | t | v | av | at | tv | Avg | atv |",
        "|---|---|---|---|---|---|---|---|",
        "| 60.00/55.00 | 85.00/84.00 | 62.00/61.00 | 63.00/62.00 | 86.00/85.00 | 87.00/86.00 | 73.83/72.17 | 88.00/87.00 |",
      ].join("\n"),
    );
  });

  it("CSV: one row per rule and metric, the paper's columns in %", async () => {
    const { table } = await buildTable({ from: dir });
    const P = "paper protocol: best stage-2 epoch chosen on the test set (optimistic)";
    const V = "validation selection: best stage-2 epoch on the validation split (the last epoch where there is none)";
    const L = "last epoch: no selection";
    assert.equal(
      formatTable(table, "csv"),
      [
        "dataset,rule,selection,metric,stat,a,t,v,av,at,tv,Avg,atv",
        `CMUMOSI,paper,${P},Acc-2,mean,62.00,87.00,64.00,65.00,88.00,89.00,75.83,90.00`,
        `CMUMOSI,paper,${P},F1,mean,57.00,86.00,63.00,64.00,87.00,88.00,74.17,89.00`,
        `CMUMOSI,validation,${V},Acc-2,mean,60.00,85.00,62.00,63.00,86.00,87.00,73.83,88.00`,
        `CMUMOSI,validation,${V},F1,mean,55.00,84.00,61.00,62.00,85.00,86.00,72.17,87.00`,
        `CMUMOSI,last,${L},Acc-2,mean,60.00,85.00,62.00,63.00,86.00,87.00,73.83,88.00`,
        `CMUMOSI,last,${L},F1,mean,55.00,84.00,61.00,62.00,85.00,86.00,72.17,87.00`,
      ].join("\n"),
    );
  });

  it("JSON: fractions, the epoch each rule picked, and --out writes table.md/csv/json", async () => {
    const out = join(root, "mosi-tables");
    const { table, written } = await buildTable({ from: dir, out, conditions: ["t", "atv"] });
    assert.deepEqual(written, ["md", "csv", "json"].map((f) => join(out, `table.${f}`)));
    const j = JSON.parse(formatTable(table, "json")) as {
      format: string; conditions: string[]; tables: { rule: string; cells: Record<string, Record<string, { mean: number; std: null; values: number[] }>> }[];
      runs: { condition: string; selections: Record<string, { epoch: number }> }[];
    };
    assert.equal(j.format, "dssr-table/1");
    assert.deepEqual(j.conditions, ["t", "atv"]);
    assert.deepEqual(j.tables.map((t) => t.rule), ["paper", "validation", "last"]);
    assert.deepEqual(Object.keys(j.tables[0].cells), ["t", "atv"], "no Avg without the six missing conditions");
    assert.deepEqual(j.tables[1].cells.t["Acc-2"], { mean: 0.85, std: null, values: [0.85] });
    assert.deepEqual(j.runs.map((r) => [r.condition, r.selections.paper.epoch, r.selections.validation.epoch]), [["t", 2, 3], ["atv", 2, 3]]);
  });

  it("notes settings the runs disagree on", async () => {
    const mixed = join(root, "mixed");
    writeMosi(mixed);
    write(join(mixed, "t"), doc({ ...mosiConfig, condition: "t", lr: 1e-3, epochs: 4, stageEpoch: 2 }, mosiHistory(0.85, 0.84)));
    const md = formatTable((await buildTable({ from: mixed })).table, "md");
    assert.match(md, /^Note: the runs differ in lr: 0\.0002, 0\.001\.$/m);
  });
});

describe("an IEMOCAP table: folds averaged per seed, then mean ± sample std over seeds", () => {
  const dir = join(root, "iemocap");
  const iemocap: TrainConfig = { ...mosiConfig, dataset: "IEMOCAPFour", epochs: 2, stageEpoch: 1, batchSize: 16 };
  // [seed][fold] → (WA, UA)
  const values: Partial<Record<Condition, Record<number, Record<number, [number, number]>>>> = {
    t: { 1: { 1: [0.7, 0.6], 2: [0.8, 0.7] }, 2: { 1: [0.72, 0.62], 2: [0.84, 0.74] } },
    atv: { 1: { 1: [0.8, 0.8], 2: [0.8, 0.8] }, 2: { 1: [0.9, 0.7], 2: [0.9, 0.7] } },
  };
  for (const [c, bySeed] of Object.entries(values)) {
    for (const [seed, byFold] of Object.entries(bySeed)) {
      for (const [fold, [wa, ua]] of Object.entries(byFold)) {
        const history = [record(0, 1, cls(0.3, 0.3), null), record(1, 1, cls(wa, ua), null)];
        write(
          join(dir, c, `seed-${seed}`, `fold-${fold}`),
          doc({ ...iemocap, condition: c as Condition, seed: Number(seed) }, history, Number(fold)),
        );
      }
    }
  }

  it("Markdown and CSV", async () => {
    const { table } = await buildTable({ from: dir });
    assert.deepEqual([table.seeds, table.folds], [[1, 2], [1, 2]]);
    const md = formatTable(table, "md");
    assert.match(md, /^Test WA\/UA \(%\); /m);
    assert.match(md, /^Each cell: mean ± sample std over 2 seeds \(1, 2\)\.$/m);
    assert.match(md, /^Each run: the mean over the IEMOCAP leave-one-session-out folds 1, 2\.$/m);
    // These runs predate valFraction: no held-out validation split, and the table says so.
    assert.match(md, /^No validation split \(valFraction 0\): the validation rule takes the last epoch\.$/m);
    const row = "| - | 76.50±2.12/66.50±2.12 | - | - | - | - | - | 85.00±7.07/75.00±7.07 |";
    assert.equal(md.split("\n").filter((l) => l === row).length, 3, "the same row under each rule (one stage-2 epoch)");
    const csv = formatTable(table, "csv").split("\n");
    assert.equal(csv.length, 1 + 3 * 2 * 2);
    assert.equal(csv[1], "IEMOCAPFour,paper,paper protocol: best stage-2 epoch chosen on the test set (optimistic),WA,mean,,76.50,,,,,,85.00");
    assert.equal(csv[2], "IEMOCAPFour,paper,paper protocol: best stage-2 epoch chosen on the test set (optimistic),WA,std,,2.12,,,,,,7.07");
    assert.equal(csv[3], "IEMOCAPFour,paper,paper protocol: best stage-2 epoch chosen on the test set (optimistic),UA,mean,,66.50,,,,,,75.00");
    assert.equal(csv[4], "IEMOCAPFour,paper,paper protocol: best stage-2 epoch chosen on the test set (optimistic),UA,std,,2.12,,,,,,7.07");
  });

  it("--seeds and --folds choose among the runs found", async () => {
    const { table } = await buildTable({ from: dir, seeds: [2], folds: [2] });
    assert.match(formatTable(table, "md"), /^\| - \| 84\.00\/74\.00 \| - \| - \| - \| - \| - \| 90\.00\/70\.00 \|$/m);
    await assert.rejects(buildTable({ from: dir, seeds: [3] }), (e: unknown) => e instanceof ConfigError && /no results for seed 3 under/.test(e.message));
  });

  it("a condition missing a seed's fold is refused, naming what is missing", async () => {
    rmSync(join(dir, "atv", "seed-2", "fold-1"), { recursive: true });
    await assert.rejects(
      buildTable({ from: dir }),
      (e: unknown) => e instanceof ConfigError && /every condition needs the same seeds and folds .*missing: condition atv, seed 2, fold 1\./.test(e.message),
    );
  });
});

describe("Avg over seeds and the refusals", () => {
  const run = (condition: Condition, seed: number, acc: number): TableRun => {
    const history = [record(0, 0, reg(acc, acc), null)];
    return { condition, seed, fold: null, config: { ...mosiConfig, condition, seed }, selections: selectEpochs(history), resultsPath: null };
  };

  it("Avg's ± is the spread of the per-seed averages", () => {
    const base: Record<string, number> = { a: 0.6, t: 0.8, v: 0.6, av: 0.65, at: 0.82, tv: 0.83 };
    const shift: Record<string, number> = { a: 0.06, t: 0, v: 0.03, av: 0, at: 0, tv: 0.03 };
    const runs = Object.keys(base).flatMap((c) => [run(c as Condition, 1, base[c]), run(c as Condition, 2, base[c] + shift[c])]);
    const avg = aggregateTable(runs).sections[0].cells.Avg![0];
    const m1 = 4.3 / 6;
    const m2 = m1 + 0.12 / 6;
    assert.ok(Math.abs(avg.values[0] - m1) < 1e-12 && Math.abs(avg.values[1] - m2) < 1e-12);
    assert.ok(Math.abs(avg.mean - (m1 + m2) / 2) < 1e-12);
    assert.ok(Math.abs(avg.std! - 0.02 / Math.SQRT2) < 1e-12);
  });

  it("two runs of one (condition, seed) are refused, naming both files", async () => {
    const dir = join(root, "dup");
    writeMosi(dir);
    write(join(dir, "t", "again"), doc({ ...mosiConfig, condition: "t", epochs: 4, stageEpoch: 2 }, mosiHistory(0.85, 0.84)));
    await assert.rejects(
      buildTable({ from: dir }),
      (e: unknown) => e instanceof ConfigError && /two runs of condition t, seed 66: .*t\/again\/results\.json and .*t\/results\.json/.test(e.message),
    );
  });

  it("a run of another condition in a condition's folder is refused", async () => {
    const dir = join(root, "misplaced");
    write(join(dir, "a"), doc({ ...mosiConfig, condition: "at", epochs: 4, stageEpoch: 2 }, mosiHistory(0.85, 0.84)));
    await assert.rejects(buildTable({ from: dir }), (e: unknown) => e instanceof ConfigError && /is a run of condition at but lies under a\//.test(e.message));
  });

  it("an empty folder says what it expected", async () => {
    const dir = join(root, "empty");
    mkdirSync(dir);
    await assert.rejects(buildTable({ from: dir }), /no results under .*empty: expected .*<condition>\/results\.json/);
  });
});
