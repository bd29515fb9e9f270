/** `dssr plot curves` through the binary: a run folder → SVG + PNG; a missing results file is one line. */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resultsPath } from "../../src/cli/commands/plot.js";
import { FileError } from "../../src/errors.js";
import { figurePaths, pngSize } from "../../src/plot/render.js";
import { writeJsonAtomic } from "../../src/report/results.js";
import { runBin, tempDir } from "../cli/helpers.js";
import { curvesResults } from "./fixtures.js";
import { items, markGroup, svgSize } from "./svg.js";

describe("dssr plot curves", () => {
  let root: string;
  before(async () => {
    root = tempDir("plot-cli");
    mkdirSync(join(root, "runs", "at"), { recursive: true });
    await writeJsonAtomic(join(root, "runs", "at", "results.json"), curvesResults({ epochs: 7, stageEpoch: 4 }));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("reads a run folder and writes <folder>/training-curves-<run>.svg and .png; --scale sets the PNG size", async () => {
    const r = await runBin(["plot", "curves", "runs/at", "--out", "figs/", "--scale", "1.5"], root);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    const svgPath = join(root, "figs", "training-curves-at.svg");
    assert.match(r.stdout, /^written figs\/training-curves-at\.svg and figs\/training-curves-at\.png \([\d.]+×[\d.]+ px; PNG \d+×\d+\)\n$/);
    const svg = readFileSync(svgPath, "utf8");
    assert.equal(items(markGroup(svg, "loss_points")).filter((p) => p.label["loss term"] === "total").length, 7);
    const size = svgSize(svg);
    assert.deepEqual(pngSize(readFileSync(join(root, "figs", "training-curves-at.png"))), {
      width: Math.round(1.5 * size.width), height: Math.round(1.5 * size.height),
    });
  });

  it("without --out, writes beside the results file", async () => {
    const a = await runBin(["plot", "curves", "runs/at/results.json", "--quiet"], root);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, "");
    assert.ok(existsSync(join(root, "runs", "at", "training-curves.svg")));
    assert.ok(existsSync(join(root, "runs", "at", "training-curves.png")));
  });

  it("--out: a stem (an .svg or .png ending dropped) or a folder", () => {
    assert.deepEqual(figurePaths("out/my-curves.png", "x", false), { svg: "out/my-curves.svg", png: "out/my-curves.png" });
    assert.deepEqual(figurePaths("out/my.curves", "x", false), { svg: "out/my.curves.svg", png: "out/my.curves.png" });
    assert.deepEqual(figurePaths("figs", "x", true), { svg: "figs/x.svg", png: "figs/x.png" });
    assert.deepEqual(figurePaths("new/", "x", false), { svg: "new/x.svg", png: "new/x.png" });
    assert.equal(resultsPath(join(root, "runs", "at")), join(root, "runs", "at", "results.json"));
    mkdirSync(join(root, "empty"));
    assert.throws(() => resultsPath(join(root, "empty")), (e: unknown) =>
      e instanceof FileError && e.message.startsWith(`folder ${join(root, "empty")} has no results.json`));
  });

  it("a missing results file or a bad --scale is one line, exit 1", async () => {
    const r = await runBin(["plot", "curves", "runs/nope"], root);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "dssr: results file not found: runs/nope (give a results.json or the --out folder of a run)\n");
    const s = await runBin(["plot", "curves", "runs/at", "--scale", "0"], root);
    assert.equal(s.code, 1);
    assert.equal(s.stderr, "dssr: --scale must be in (0, 8], got 0\n");
  });
});
