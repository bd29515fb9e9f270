/**
 * `dssr demo` end to end with tiny sizes: two conditions, two epochs each. Checks the table, the
 * files under --out, and that the temporary dataset folder is gone afterwards.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readResults } from "../../src/report/results.js";
import { listFiles, runBin, tempDir, type BinRun } from "./helpers.js";

describe("dssr demo with tiny sizes", () => {
  let root: string;
  let run: BinRun;

  before(async () => {
    root = tempDir("demo");
    run = await runBin(
      ["demo", "--conditions", "v,t", "--videos", "20", "--epochs", "2", "--batch_size", "8", "--D_e", "16", "--out", "out"],
      root,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("exits 0 and prints one epoch line per epoch and condition, then the table", () => {
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^synthetic CMU-MOSI-like data: 20 videos, \d+ utterances/m);
    assert.match(run.stdout, /^stage 1 \(salient, all modalities\): trained once, shared by every condition$/m);
    assert.match(run.stdout, /^\[1\/2\] condition t: stage 2 for epochs 2-2 from the shared stage 1/m, "paper column order: t before v");
    assert.match(run.stdout, /^\[2\/2\] condition v: /m);
    // One stage-1 epoch, shared, then one stage-2 epoch per condition.
    const epochLines = run.stdout.split("\n").filter((l) => l.startsWith("  epoch "));
    assert.deepEqual(epochLines.map((l) => / stage (\d) /.exec(l)?.[1]), ["1", "2", "2"]);
    assert.match(run.stdout, /^Selection: validation selection/m);
    assert.match(run.stdout, /^\| a \| t \| v \| av \| at \| tv \| Avg \| atv \|$/m);
    assert.match(run.stdout, /^\| - \| \d+\.\d\d\/\d+\.\d\d \| \d+\.\d\d\/\d+\.\d\d \| - \| - \| - \| - \| - \|$/m);
  });

  it("removes its temporary dataset folder", () => {
    const dir = /^synthetic .* in (\S+)$/m.exec(run.stdout)?.[1];
    assert.ok(dir !== undefined);
    assert.equal(existsSync(dir), false);
  });

  it("writes one results.json per condition and the table", async () => {
    assert.deepEqual(listFiles(join(root, "out")), ["t/results.json", "table.md", "v/results.json"]);
    const t = await readResults(join(root, "out", "t", "results.json"));
    assert.equal(t.config.condition, "t");
    assert.equal(t.config.hidden, 16);
    assert.deepEqual(t.history.map((r) => r.stage), [1, 2]);
    const table = readFileSync(join(root, "out", "table.md"), "utf8");
    assert.ok(run.stdout.includes(table.trimEnd()), "the printed table is the written one");
  });
});
