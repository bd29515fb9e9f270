/**
 * `dssr table` end to end on a tiny synthetic dataset: two conditions × two seeds with stage 1
 * shared, results.json per run written under --out, the table's shape; then the same table
 * collected back with --from, and one condition trained on its own (--no-share-stage1) giving the
 * same numbers as its shared-stage-1 run.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeSyntheticDataset } from "../../src/data/synthetic.js";
import { readResults } from "../../src/report/results.js";
import { listFiles, runBin, runBinUntil, SYNTH_FLAGS, tempDir, type BinRun } from "../cli/helpers.js";

const TINY = ["--epochs", "2", "--batch_size", "8", "--D_e", "16"];

describe("dssr table with tiny sizes", () => {
  let root: string;
  let data: string;
  let run: BinRun;

  before(async () => {
    root = tempDir("table");
    data = join(root, "data");
    writeSyntheticDataset(data, { seed: 1, videos: 24 });
    run = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "v,t", "--seeds", "1,2", ...TINY, "--out", "out"],
      root,
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("exits 0 with a line per condition start and per epoch, stage 1 once per seed", () => {
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    const lines = run.stdout.split("\n");
    assert.match(run.stdout, /^table: conditions t, v; seeds 1, 2; 4 run\(s\); stage 1 shared/m);
    assert.deepEqual(
      lines.filter((l) => /^(seed \d|\[\d\/4\])/.test(l)),
      [
        "seed 1: stage 1 once (epoch 1) for t, v",
        "[1/4] condition t, seed 1: stage 2, epoch 2",
        "[2/4] condition v, seed 1: stage 2, epoch 2",
        "seed 2: stage 1 once (epoch 1) for t, v",
        "[3/4] condition t, seed 2: stage 2, epoch 2",
        "[4/4] condition v, seed 2: stage 2, epoch 2",
      ],
    );
    assert.deepEqual(lines.filter((l) => l.startsWith("  epoch ")).map((l) => l.slice(0, 22)), [
      "  epoch 1/2 stage 1  l", "  epoch 2/2 stage 2  l", "  epoch 2/2 stage 2  l",
      "  epoch 1/2 stage 1  l", "  epoch 2/2 stage 2  l", "  epoch 2/2 stage 2  l",
    ]);
  });

  it("prints one table per selection rule, t and v as mean ± std, the rest empty", () => {
    const headings = run.stdout.split("\n").filter((l) => l.startsWith("## Selection: "));
    assert.equal(headings.length, 3);
    assert.match(headings[0], /paper protocol.*\(optimistic\)/);
    assert.match(headings[1], /^## Selection: validation selection/);
    assert.match(headings[2], /^## Selection: last epoch/);
    const cell = String.raw`\d+\.\d\d±\d+\.\d\d\/\d+\.\d\d±\d+\.\d\d`;
    const row = new RegExp(String.raw`^\| - \| ${cell} \| ${cell} \| - \| - \| - \| - \| - \|$`);
    assert.equal(run.stdout.split("\n").filter((l) => row.test(l)).length, 3);
    assert.match(run.stdout, /^Each cell: mean ± sample std over 2 seeds \(1, 2\)\.$/m);
  });

  it("writes a results.json per (condition, seed), the tables and each seed's latest checkpoints; the runs share stage 1", async () => {
    assert.deepEqual(listFiles(join(root, "out")), [
      ...[1, 2].flatMap((seed) => [
        `checkpoints/seed-${seed}/stage1/checkpoint.json`, `checkpoints/seed-${seed}/stage1/state-0001.safetensors`,
        `checkpoints/seed-${seed}/stage2-t/checkpoint.json`, `checkpoints/seed-${seed}/stage2-t/state-0002.safetensors`,
        `checkpoints/seed-${seed}/stage2-v/checkpoint.json`, `checkpoints/seed-${seed}/stage2-v/state-0002.safetensors`,
      ]),
      "t/seed-1/results.json", "t/seed-2/results.json", "table.csv", "table.json", "table.md",
      "v/seed-1/results.json", "v/seed-2/results.json",
    ]);
    const t1 = await readResults(join(root, "out", "t", "seed-1", "results.json"));
    const v1 = await readResults(join(root, "out", "v", "seed-1", "results.json"));
    assert.deepEqual([t1.config.condition, t1.config.seed, t1.config.out], ["t", 1, join(root, "out", "t", "seed-1")]);
    assert.deepEqual(t1.history[0].test, v1.history[0].test, "one stage 1 for both conditions");
    assert.ok(run.stdout.includes(readFileSync(join(root, "out", "table.md"), "utf8").trimEnd()));
  });

  it("--from collects the same table back (CSV)", async () => {
    const r = await runBin(["table", "--from", "out", "--format", "csv", "--quiet"], root);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(root, "out", "table.csv"), "utf8"));
    assert.equal(r.stdout.split("\n")[0], "dataset,rule,selection,metric,stat,a,t,v,av,at,tv,Avg,atv");
  });

  it("--resume reuses every run already under --out, and refuses a run of other settings", async () => {
    const args = ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "t,v", "--seeds", "1,2", "--batch_size", "8", "--D_e", "16", "--out", "out", "--resume"];
    const same = await runBin([...args, "--epochs", "2"], root);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout.split("\n").filter((l) => / reused .*results\.json$/.test(l)).length, 4);
    assert.match(same.stdout, /^0 run\(s\) trained, 4 read from results\.json/m);
    assert.ok(same.stdout.includes(readFileSync(join(root, "out", "table.md"), "utf8").trimEnd()));
    const other = await runBin([...args, "--epochs", "3"], root);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /^dssr: --resume: .*t\/seed-1\/results\.json is a different run \(epochs 2 there, 3 now\); remove it or choose another --out\n$/);
  });

  it("--jobs 2 trains the same table in child processes, bit for bit, each epoch line naming its run; --save-models saves each run's model", async () => {
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "v,t", "--seeds", "1,2", ...TINY, "--out", "par", "--jobs", "2", "--save-models"],
      root,
    );
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    // Stage 1 of both seeds first (two jobs), then the four conditions, two at a time.
    const starts = r.stdout.split("\n").filter((l) => /^(seed \d|\[\d\/4\])/.test(l));
    assert.deepEqual(starts.slice(0, 2).sort(), ["seed 1: stage 1 once (epoch 1) for t, v", "seed 2: stage 1 once (epoch 1) for t, v"]);
    assert.equal(starts.length, 6);
    const owners = r.stdout.split("\n").filter((l) => l.startsWith("  [")).map((l) => l.slice(2, l.indexOf("]") + 1)).sort();
    assert.deepEqual(owners, ["[stage 1, seed 1]", "[stage 1, seed 2]", "[t, seed 1]", "[t, seed 2]", "[v, seed 1]", "[v, seed 2]"]);
    assert.doesNotMatch(r.stdout, /resuming from/, "continuing from the shared stage 1 is not a resume");
    for (const run of ["t/seed-1", "t/seed-2", "v/seed-1", "v/seed-2"]) {
      const want = await readResults(join(root, "out", run, "results.json"));
      const got = await readResults(join(root, "par", run, "results.json"));
      const strip = (d: typeof want) => ({ history: d.history.map(({ seconds: _s, ...e }) => e), selections: d.selections });
      assert.deepEqual(strip(got), strip(want), run);
      const model = JSON.parse(readFileSync(join(root, "par", run, "model", "model.json"), "utf8")) as { condition: string; epoch: number; selections: unknown };
      assert.deepEqual([model.condition, model.epoch, model.selections], [run.slice(0, 1), 1, want.selections], run);
      assert.ok(existsSync(join(root, "par", run, "model", "model.safetensors")));
    }
    assert.equal(readFileSync(join(root, "par", "table.csv"), "utf8"), readFileSync(join(root, "out", "table.csv"), "utf8"));
  });

  it("--resume --save-models: finished runs without a model continue from their last checkpoint, so only the models are written, the same bits", async () => {
    cpSync(join(root, "out"), join(root, "saved"), { recursive: true });
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "v,t", "--seeds", "1,2", ...TINY, "--out", "saved", "--resume", "--save-models"],
      root,
    );
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout, /epoch +\d+\/2 stage/, "no epoch is trained again");
    for (const run of ["t/seed-1", "t/seed-2", "v/seed-1", "v/seed-2"]) {
      const strip = (d: Awaited<ReturnType<typeof readResults>>) => ({ history: d.history, selections: d.selections });
      assert.deepEqual(strip(await readResults(join(root, "saved", run, "results.json"))), strip(await readResults(join(root, "out", run, "results.json"))), run);
      const weights = (dir: string) => readFileSync(join(root, dir, run, "model", "model.safetensors"));
      assert.ok(weights("saved").equals(weights("par")), `${run}: the weights the --jobs run saved`);
    }
  });

  it("a table trained again into a folder without --save-models removes the earlier models of the runs it replaces", async () => {
    cpSync(join(root, "par"), join(root, "stale"), { recursive: true });
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "t", "--seeds", "1,2", ...TINY, "--out", "stale", "--quiet"],
      root,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(join(root, "stale", "t", "seed-1", "model")), "the replaced run's old model is gone");
    assert.ok(existsSync(join(root, "stale", "v", "seed-1", "model", "model.json")), "a run this table did not train keeps its model");
  });

  it("--jobs: a task that fails stops the table with its own one-line error", async () => {
    cpSync(join(root, "out"), join(root, "broken"), { recursive: true });
    rmSync(join(root, "broken", "t", "seed-1", "results.json"));
    rmSync(join(root, "broken", "checkpoints", "seed-1", "stage2-t"), { recursive: true });
    writeFileSync(join(root, "broken", "checkpoints", "seed-1", "stage1", "checkpoint.json"), "{ not json");
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "v,t", "--seeds", "1,2", ...TINY, "--out", "broken", "--resume", "--jobs", "2"],
      root,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^dssr: .*broken\/checkpoints\/seed-1\/stage1\/checkpoint\.json[^\n]*\n$/);
    assert.ok(!existsSync(join(root, "broken", "t", "seed-1", "results.json")));
  });

  it("--jobs needs --out, a whole number ≥ 1, and training", async () => {
    const base = ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "t", ...TINY];
    const noOut = await runBin([...base, "--jobs", "2"], root);
    assert.equal(noOut.code, 1);
    assert.match(noOut.stderr, /^dssr: --jobs needs an output folder \(--out\)/);
    const zero = await runBin([...base, "--jobs", "0", "--out", "zero"], root);
    assert.equal(zero.code, 1);
    assert.match(zero.stderr, /^dssr: jobs \(--jobs\) must be a whole number ≥ 1, got 0\n$/);
    const from = await runBin(["table", "--from", "out", "--jobs", "2"], root);
    assert.equal(from.code, 1);
    assert.match(from.stderr, /^dssr: --jobs applies to training, not to --from\n$/);
  });

  it("--no-share-stage1 trains a condition on its own, to the same numbers", async () => {
    const r = await runBin(
      ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "t", "--seed", "1", ...TINY,
        "--no-share-stage1", "--format", "json", "--quiet"],
      root,
    );
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { runs: { selections: Record<string, { epoch: number; test: unknown }> }[] };
    const shared = JSON.parse(readFileSync(join(root, "out", "t", "seed-1", "results.json"), "utf8")) as {
      selections: Record<string, { epoch: number; test: unknown }>;
    };
    for (const rule of ["paper", "validation", "last"]) {
      assert.deepEqual(j.runs[0].selections[rule], { epoch: shared.selections[rule].epoch, test: shared.selections[rule].test }, rule);
    }
  });

  it("a table killed (kill -9) in a condition's stage 2 and run again with --resume reuses the finished condition, continues the other from its checkpoint, and reaches the uninterrupted table", async () => {
    const args = ["table", "--dataset", "CMUMOSI", "--data-dir", data, ...SYNTH_FLAGS, "--conditions", "t,v", "--seed", "4",
      "--epochs", "4", "--stage_epoch", "2", "--batch_size", "8", "--D_e", "16"];
    const ref = await runBin([...args, "--out", "ref"], root);
    assert.equal(ref.code, 0, ref.stderr);
    const killed = await runBinUntil([...args, "--out", "killed"], root, /^\[2\/2\] condition v[^\n]*\n {2}epoch 3\/4 /m);
    assert.equal(killed.signal, "SIGKILL");
    assert.ok(!existsSync(join(root, "killed", "v", "results.json")));
    const resumed = await runBin([...args, "--out", "killed", "--resume"], root);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /^\[1\/2\] condition t, seed 4: reused /m);
    assert.match(resumed.stdout, /^ {2}resuming from .*killed\/checkpoints\/stage2-v after epoch [34]$/m);
    assert.match(resumed.stdout, /^1 run\(s\) trained, 1 read from results\.json/m);
    for (const c of ["t", "v"]) {
      const want = await readResults(join(root, "ref", c, "results.json"));
      const got = await readResults(join(root, "killed", c, "results.json"));
      const strip = (d: typeof want) => ({ history: d.history.map(({ seconds: _s, ...r }) => r), selections: d.selections });
      assert.deepEqual(strip(got), strip(want), c);
    }
    assert.equal(readFileSync(join(root, "killed", "table.csv"), "utf8"), readFileSync(join(root, "ref", "table.csv"), "utf8"));
  });
});
