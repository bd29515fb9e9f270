/**
 * plotTrainingCurves on hand-built results: every series has one point per epoch it exists in
 * (DCL in stage 1 only, REC in stage 2 only), the stage rule sits between the last stage-1 and the
 * first stage-2 epoch, the selected epochs are marked, the axes and title say what they show, and
 * the PNG is a PNG of the SVG's size times the scale.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FileError } from "../../src/errors.js";
import { curvesData, LOSS_SERIES, plotTrainingCurves } from "../../src/plot/curves.js";
import { pngSize } from "../../src/plot/render.js";
import { writeJsonAtomic, type ResultsJson } from "../../src/report/results.js";
import { curvesResults } from "./fixtures.js";
import { attr, items, markGroup, markGroups, svgSize, translate } from "./svg.js";

const label = (key: string) => LOSS_SERIES.find(([k]) => k === key)![1];
const WIDTH = 640; // the panels' default plot width

/** x pixel of a 1-based epoch on a panel whose x domain is [1, epochs]. */
const xOf = (epoch: number, epochs: number) => ((epoch - 1) / (epochs - 1)) * WIDTH;

describe("plotTrainingCurves", () => {
  let root: string;
  before(() => (root = mkdtempSync(join(tmpdir(), "dssr-test-curves-"))));
  after(() => rmSync(root, { recursive: true, force: true }));

  describe("a MOSI run of 12 epochs, stage 2 from epoch 9", () => {
    const results = curvesResults({ epochs: 12, stageEpoch: 8 });
    let svg: string;
    let png: Uint8Array;
    let size: { width: number; height: number };
    before(async () => {
      const f = await plotTrainingCurves(results);
      svg = f.svg;
      png = f.png;
      size = { width: f.width, height: f.height };
      assert.equal(f.scale, 2);
    });

    it("draws one loss line per term, with one point per epoch the term exists in", () => {
      const lines = markGroups(svg, "loss_lines").flatMap(items);
      const want: Record<string, number> = {
        [label("total")]: 12, [label("task")]: 12, [label("taskA")]: 12, [label("taskT")]: 12, [label("taskV")]: 12,
        [label("dcl")]: 8, [label("rec")]: 4,
      };
      assert.deepEqual(lines.map((l) => l.label["loss term"]).sort(), Object.keys(want).sort());
      for (const l of lines) {
        const d = attr(l.tag, "d")!;
        assert.equal(d.split("L").length, want[l.label["loss term"]], `vertices of ${l.label["loss term"]}`);
      }
      const points = items(markGroup(svg, "loss_points"));
      for (const [series, n] of Object.entries(want)) {
        const mine = points.filter((p) => p.label["loss term"] === series);
        assert.equal(mine.length, n, `points of ${series}`);
      }
      // DCL's points are epochs 1-8 and REC's 9-12, at the x of their epoch.
      const epochsOf = (s: string) => points.filter((p) => p.label["loss term"] === s).map((p) => Number(p.label.epoch));
      assert.deepEqual(epochsOf(label("dcl")), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(epochsOf(label("rec")), [9, 10, 11, 12]);
      for (const p of points) assert.ok(Math.abs(translate(p.tag)[0] - xOf(Number(p.label.epoch), 12)) < 1e-6);
    });

    it("draws test and validation Acc-2 and F1, one point per epoch each", () => {
      const points = items(markGroup(svg, "metric_points"));
      for (const metric of ["Acc-2", "F1"]) {
        for (const split of ["test", "val"]) {
          const mine = points.filter((p) => p.label.metric === metric && p.label.split === split);
          assert.equal(mine.length, 12, `${split} ${metric}`);
        }
      }
      // The values drawn are the history's, in percent (the label rounds them).
      const first = points.find((p) => p.label.metric === "Acc-2" && p.label.split === "test" && p.label.epoch === "1")!;
      assert.equal(Number(first.label["metric (%)"]), Math.round(100 * (results.history[0].test as { acc2: number }).acc2));
      assert.equal(markGroups(svg, "metric_lines").flatMap(items).length, 4);
    });

    it("puts the stage rule between epochs 8 and 9 in both panels", () => {
      for (const name of ["stage_rule", "stage_rule_metrics"]) {
        const rules = items(markGroup(svg, name));
        assert.equal(rules.length, 1);
        assert.ok(Math.abs(translate(rules[0].tag)[0] - xOf(8.5, 12)) < 1e-6, `${name} at x ${translate(rules[0].tag)[0]}`);
      }
      assert.match(svg, />stage 2 \(subtle\) →</);
    });

    it("marks the selected epochs on the test Acc-2 curve", () => {
      const marks = items(markGroup(svg, "selected_points"));
      const epochs = [...new Set(Object.values(results.selections).map((s) => s.epoch + 1))].sort((a, b) => a - b);
      assert.deepEqual(marks.map((m) => Number(m.label.epoch)), epochs);
      for (const m of marks) assert.ok(Math.abs(translate(m.tag)[0] - xOf(Number(m.label.epoch), 12)) < 1e-6);
      const data = curvesData(results);
      const last = data.selected.find((s) => s.rules.includes("last"))!;
      assert.equal(last.epoch, 12);
      assert.equal(last.value, 100 * (results.history[11].test as { acc2: number }).acc2);
    });

    it("titles the figure and the axes", () => {
      assert.match(svg, /CMUMOSI · condition at · seed 67: training curves/);
      assert.match(svg, /stage 1 \(salient\) epochs 1–8, stage 2 \(subtle\) epochs 9–12/);
      assert.match(svg, /aria-label="X-axis titled 'epoch'/);
      assert.match(svg, /aria-label="Y-axis titled 'training loss \(log scale\)' for a log scale/);
      assert.match(svg, /aria-label="Y-axis titled 'metric \(%\)'/);
      assert.match(svg, /font-family="DejaVu Sans"/);
    });

    it("the PNG is valid and twice the SVG's size", () => {
      assert.deepEqual(svgSize(svg), size);
      assert.deepEqual(pngSize(png), { width: Math.round(2 * size.width), height: Math.round(2 * size.height) });
      assert.ok(png.length > 20_000, `a drawn PNG, not a blank one (${png.length} bytes)`);
    });
  });

  it("IEMOCAP without a validation split: WA and UA of the test set only; from a file path", async () => {
    const results = curvesResults({ epochs: 6, stageEpoch: 3, task: "classification", val: false });
    const path = join(root, "results.json");
    await writeJsonAtomic(path, results);
    const f = await plotTrainingCurves(path, { scale: 1 });
    const points = items(markGroup(f.svg, "metric_points"));
    assert.deepEqual([...new Set(points.map((p) => `${p.label.split} ${p.label.metric}`))].sort(), ["test UA", "test WA"]);
    assert.equal(points.length, 12);
    assert.match(f.svg, /IEMOCAPFour · condition at · seed 67/);
    assert.match(f.svg, /Test and validation WA \/ UA per epoch/);
    assert.deepEqual(pngSize(f.png), { width: Math.round(f.width), height: Math.round(f.height) });
  });

  it("a run that never reached stage 2 has no stage rule", async () => {
    const results: ResultsJson = curvesResults({ epochs: 5, stageEpoch: 5 });
    const f = await plotTrainingCurves(results, { scale: 1 });
    assert.equal(f.data.stageRule, null);
    assert.doesNotMatch(f.svg, /stage_rule_marks/);
    assert.equal(items(markGroup(f.svg, "loss_points")).filter((p) => p.label["loss term"] === label("rec")).length, 0);
  });

  it("a missing results file is a FileError naming it", async () => {
    const missing = join(root, "nope", "results.json");
    await assert.rejects(plotTrainingCurves(missing), (e: unknown) => e instanceof FileError && e.message.includes(missing));
  });
});
