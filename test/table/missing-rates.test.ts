/**
 * `dssr table --missing-rates` end to end on a tiny synthetic dataset: one row per rate in each
 * selection rule's table, the numbers equal to the results.json files and the JSON table, the
 * measured missing fractions; rate 0 reproduces condition atv bit for bit (the masked steps with
 * an all-ones mask are the condition path); a bare flag means GCNet's 0…0.7; bad uses fail fast.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeSyntheticDataset } from "../../src/data/synthetic.js";
import { SELECTION_RULES } from "../../src/eval/types.js";
import { readResults } from "../../src/report/results.js";
import { listFiles, runBin, SYNTH_FLAGS, tempDir, type BinRun } from "../cli/helpers.js";

const TINY = ["--epochs", "3", "--batch_size", "8", "--D_e", "16"];
const RATES = ["0", "0.3", "0.7"];

/** The Markdown rows of one rule's table: [rate, missing, metric 1, metric 2] as printed. */
function tableRows(stdout: string, rule: string): string[][] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith("## Missing-rate protocol, selection: ") && l.includes(rule));
  assert.ok(start >= 0, `no table for ${rule}`);
  assert.equal(lines[start + 2], "| r | missing (%) | Acc-2 | F1 |");
  const rows: string[][] = [];
  for (let i = start + 4; i < lines.length && lines[i].startsWith("| "); i++) rows.push(lines[i].slice(2, -2).split(" | "));
  return rows;
}

const pct = (x: number) => (100 * x).toFixed(2);
const RULE_TEXT = { paper: "paper protocol", validation: "validation selection", last: "last epoch" } as const;

describe("dssr table --missing-rates", () => {
  let root: string;
  let run: BinRun;

  before(async () => {
    root = tempDir("missing-rates");
    writeSyntheticDataset(join(root, "data"), { seed: 1, videos: 24 });
    run = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--missing-rates", RATES.join(","), ...TINY, "--out", "out"],
      root,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("exits 0; stage 1 once, then a stage 2 per rate", () => {
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^missing-rate protocol: rates 0, 0\.3, 0\.7; seeds 66; 3 run\(s\); stage 1 on all modalities, shared/m);
    const epochs = run.stdout.split("\n").filter((l) => l.startsWith("  epoch ")).map((l) => l.slice(0, 19));
    assert.deepEqual(epochs, ["  epoch 1/3 stage 1", ...Array(3).fill(["  epoch 2/3 stage 2", "  epoch 3/3 stage 2"]).flat()]);
  });

  it("prints, per selection rule, a table titled with the protocol and the rule, one row per rate, equal to the results files", async () => {
    assert.match(run.stdout, /^# DSSR on CMUMOSI: random missing-rate protocol$/m);
    for (const rule of SELECTION_RULES) {
      const rows = tableRows(run.stdout, RULE_TEXT[rule]);
      assert.deepEqual(rows.map((r) => r[0]), RATES);
      for (const [i, rate] of RATES.entries()) {
        const doc = (await readResults(join(root, "out", `rate-${rate}`, "results.json"))) as Awaited<ReturnType<typeof readResults>> & {
          missing: { rate: number; effectiveRate: number; fraction: { test: number } };
        };
        const test = doc.selections[rule].test;
        assert.ok(test.kind === "regression");
        assert.deepEqual(rows[i], [rate, pct(doc.missing.fraction.test), pct(test.acc2), pct(test.f1)], `${rule}, rate ${rate}`);
        assert.equal(doc.missing.rate, Number(rate));
        assert.equal(doc.config.condition, "atv");
      }
    }
  });

  it("writes the results and the three table files; the JSON table holds the same numbers; missing fractions as expected", async () => {
    assert.deepEqual(listFiles(join(root, "out")), [
      "missing-rates.csv", "missing-rates.json", "missing-rates.md",
      "rate-0.3/results.json", "rate-0.7/results.json", "rate-0/results.json",
    ]);
    assert.ok(run.stdout.includes(readFileSync(join(root, "out", "missing-rates.md"), "utf8").trimEnd()));
    const json = JSON.parse(readFileSync(join(root, "out", "missing-rates.json"), "utf8"));
    assert.equal(json.format, "dssr-missing-rates/1");
    assert.deepEqual(json.rates, [0, 0.3, 0.7]);
    for (const table of json.tables) {
      for (const row of table.rows) {
        const doc = JSON.parse(readFileSync(join(root, "out", `rate-${row.rate}`, "results.json"), "utf8"));
        assert.equal(row["Acc-2"].mean, doc.selections[table.rule].test.acc2);
        assert.equal(row.F1.mean, doc.selections[table.rule].test.f1);
        assert.equal(row.missingTest.mean, doc.missing.fraction.test);
      }
    }
    const m = (r: string) => JSON.parse(readFileSync(join(root, "out", `rate-${r}`, "results.json"), "utf8")).missing;
    assert.deepEqual(m("0").fraction, { train: 0, val: 0, test: 0 });
    assert.equal(m("0.7").effectiveRate, 2 / 3);
    for (const split of ["train", "val", "test"]) assert.ok(Math.abs(m("0.7").fraction[split] - 2 / 3) < 1e-12, split);
    const f = m("0.3").fraction;
    const all = (f.train + f.val + f.test) / 3;
    assert.ok(all > 0.15 && all < 0.45, `rate 0.3: fractions ${JSON.stringify(f)}`);
  });

  it("rate 0 gives exactly the numbers of condition atv", async () => {
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--conditions", "atv", ...TINY, "--out", "cond", "--quiet"],
      root,
    );
    assert.equal(r.code, 0, r.stderr);
    const atv = await readResults(join(root, "cond", "atv", "results.json"));
    const rate0 = await readResults(join(root, "out", "rate-0", "results.json"));
    assert.deepEqual(rate0.history.map((h) => [h.trainLoss, h.val, h.test]), atv.history.map((h) => [h.trainLoss, h.val, h.test]));
  });

  it("a bare --missing-rates runs GCNet's rates 0, 0.1, …, 0.7 (here without stage 2, for time)", async () => {
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--missing-rates", "--epochs", "1", "--stage_epoch", "1",
        "--batch_size", "8", "--D_e", "16", "--quiet", "--format", "csv"],
      root,
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split("\n").slice(1).map((l) => l.split(","));
    assert.deepEqual(rows.filter((x) => x[2] === "paper").map((x) => x[4]), ["0", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7"]);
    assert.ok(rows.every((x) => x[1] === "missing-rate"));
  });

  it("refuses a rate outside [0, 1] and flags that do not apply, before training", async () => {
    const bad = await runBin(["table", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--missing-rates", "0.1,1.5"], root);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /missing rate must be a number in \[0, 1\], got 1\.5/);
    const cond = await runBin(["table", "--dataset", "CMUMOSI", "--data-dir", "data", ...SYNTH_FLAGS, "--missing-rates", "--conditions", "a"], root);
    assert.equal(cond.code, 1);
    assert.match(cond.stderr, /--conditions does not apply to --missing-rates/);
  });
});
