/**
 * plotCaseAnalysis with a tiny saved model on a small synthetic dataset: the α bars and w̄ cells
 * drawn are the ones a direct `predict` call returns for the utterance's whole video under each
 * condition (bar heights to the pixel, labels to two decimals), missing modalities are drawn pale,
 * label and prediction are shown, and bad requests are one-line ConfigErrors.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadModel, saveModel, type LoadedModel } from "../../src/checkpoint/model-file.js";
import { availableModalities, type Condition } from "../../src/config/types.js";
import { featurePaths, fitZscore, loadDataset } from "../../src/data/dataset.js";
import { SYNTHETIC_FEATURES, writeSyntheticDataset } from "../../src/data/synthetic.js";
import { MODALITIES } from "../../src/data/types.js";
import { initEngine, tree } from "../../src/engine.js";
import { ConfigError } from "../../src/errors.js";
import { initParams, type ModelShape } from "../../src/model/params.js";
import { caseLabels, MODALITY_NAMES, plotCaseAnalysis } from "../../src/plot/case.js";
import { pngSize } from "../../src/plot/render.js";
import { readPredictPickles, type PicklePredictInput } from "../../src/predict-input.js";
import { predict, type PredictVideo } from "../../src/predict.js";
import { runBin } from "../cli/helpers.js";
import { attr, items, markGroup, svgSize } from "./svg.js";

const DIMS = { a: 5, t: 7, v: 6 };
const SHAPE: ModelShape = { dims: { ...DIMS }, hidden: 16, heads: 4, nClasses: 1, depth: 1 };
const CONDITIONS: Condition[] = ["a", "tv", "atv"];
const BAR_HEIGHT = 120; // case.ts: the α panel's plot height

/** The condition of a mark: its x field, labelled by the axis title on the last row (which has one). */
const conditionOf = (label: Record<string, string>) => label.condition ?? label["test condition (available modalities)"];

describe("plotCaseAnalysis", () => {
  let root: string;
  let model: LoadedModel;
  let input: PicklePredictInput;
  let chosen: string[];
  let data: string;

  before(async () => {
    await initEngine();
    root = mkdtempSync(join(tmpdir(), "dssr-test-case-"));
    data = join(root, "data");
    writeSyntheticDataset(data, { seed: 5, videos: 6, minUtterances: 3, maxUtterances: 6, dims: DIMS });
    const raw = loadDataset({ name: "CMUMOSI", dataDir: data, features: SYNTHETIC_FEATURES });
    const params = initParams(SHAPE, 11);
    await saveModel(join(root, "m"), {
      params,
      shape: SHAPE,
      config: {
        dataset: "CMUMOSI", dataDir: data, labelFile: raw.sources.labels, features: SYNTHETIC_FEATURES, condition: "atv",
        epochs: 2, stageEpoch: 1, lr: 1e-3, weightDecay: 1e-5, batchSize: 4, hidden: 16, heads: 4, dropout: 0.5, seed: 7,
        normalize: "zscore", out: null,
      } as LoadedModel["config"],
      normalization: fitZscore(raw),
    });
    tree.dispose(params as never);
    model = await loadModel(join(root, "m"));
    input = readPredictPickles({ labelFile: raw.sources.labels, featureFiles: featurePaths(data, SYNTHETIC_FEATURES) });
    // The second utterance of video 0 and the last of video 2, by bare id and as video/utterance.
    const v0 = input.videos[0];
    const v2 = input.videos[2];
    chosen = [v0.utterances[1].id, `${v2.id}/${v2.utterances[v2.utterances.length - 1].id}`];
  });
  after(() => {
    tree.dispose(model.params as never);
    rmSync(root, { recursive: true, force: true });
  });

  it("draws, per utterance and condition, the α and w̄ that predict gives on the whole video", async () => {
    const { labels, transcripts } = caseLabels(input.labels);
    const f = await plotCaseAnalysis(model, input.videos, { utterances: chosen, conditions: CONDITIONS, labels, transcripts, scale: 1.5 });
    assert.deepEqual(f.data.warnings, []);
    assert.equal(f.data.rows.length, 2);

    for (const [i, row] of f.data.rows.entries()) {
      const video = input.videos.find((v) => v.id === row.video)!;
      const bars = items(markGroup(f.svg, `alpha_bars_${i}`));
      assert.equal(bars.length, 3 * CONDITIONS.length, "one bar segment per modality and condition");
      const cells = items(markGroup(f.svg, `w_${i}`));
      assert.equal(cells.length, 3 * SHAPE.heads * CONDITIONS.length, "one heatmap cell per modality, head and condition");

      for (const [k, condition] of CONDITIONS.entries()) {
        // The reference: predict on the utterance's whole video, given only the condition's modalities.
        const keep = availableModalities(condition);
        const only: PredictVideo = {
          id: video.id,
          utterances: video.utterances.map((u) => ({ id: u.id, features: Object.fromEntries(keep.map((m) => [m, u.features[m]])) })),
        };
        const ref = (await predict(model, [only])).videos[0].utterances.find((u) => u.id === row.utterance)!;
        const cell = row.cells[k];
        assert.equal(cell.condition, condition);
        assert.deepEqual(cell.alpha, ref.alpha);
        assert.deepEqual(cell.headWeights, ref.headWeights);
        assert.equal(cell.score, ref.score);
        assert.equal(cell.label, labels.get(`${row.video}/${row.utterance}`));

        for (const m of MODALITIES) {
          const bar = bars.find((b) => conditionOf(b.label) === condition && b.label.modality === MODALITY_NAMES[m]);
          assert.ok(bar, `bar ${condition} ${m}`);
          assert.equal(bar.label["α"], ref.alpha![m].toFixed(2), `α label ${condition} ${m}`);
          const h = Number(/v([-\d.e]+)h/.exec(attr(bar.tag, "d")!)![1]);
          assert.ok(Math.abs(h / BAR_HEIGHT - ref.alpha![m]) < 1e-4, `bar height ${h} for α ${ref.alpha![m]}`);
          assert.equal(bar.label["in the condition"], keep.includes(m) ? "given" : "generated");
          assert.equal(attr(bar.tag, "opacity"), keep.includes(m) ? "1" : "0.35");
          const ws = cells.filter((c) => conditionOf(c.label) === condition && c.label.modality === MODALITY_NAMES[m]);
          assert.deepEqual(ws.map((c) => Number(c.label.head)), [1, 2, 3, 4]);
        }
        const score = ref.score!;
        assert.ok(f.svg.includes(`>${score >= 0 ? "+" : ""}${score.toFixed(2)}</text>`), `prediction ${score} shown`);
      }
      const y = labels.get(`${row.video}/${row.utterance}`)!;
      assert.ok(f.svg.includes(`${row.utterance} · label ${y >= 0 ? "+" : ""}${y.toFixed(2)}`), "label in the row title");
    }
    assert.match(f.svg, /aria-label="X-axis titled 'test condition \(available modalities\)'/);
    const size = svgSize(f.svg);
    assert.deepEqual(pngSize(f.png), { width: Math.round(1.5 * size.width), height: Math.round(1.5 * size.height) });
  });

  it("dssr plot case writes the SVG and PNG; an unknown utterance is one line, exit 1", async () => {
    const out = join(root, "figs", "case");
    const args = ["plot", "case", "--model", join(root, "m"), "--data-dir", data, "--conditions", "t,atv", "--out", out];
    const r = await runBin([...args, "--utterances", chosen.join(",")], root);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^written ${out}\\.svg and ${out}\\.png \\([\\d.]+×[\\d.]+ px; PNG \\d+×\\d+\\)\\n$`));
    const svg = readFileSync(`${out}.svg`, "utf8");
    assert.equal(items(markGroup(svg, "alpha_bars_1")).length, 3 * 2);
    assert.match(svg, /model .*m \(weights after epoch 2\)/);
    const size = svgSize(svg);
    assert.deepEqual(pngSize(readFileSync(`${out}.png`)), { width: Math.round(2 * size.width), height: Math.round(2 * size.height) });

    const unknown = await runBin([...args, "--utterances", "nope"], root);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^dssr: utterance 'nope' is not in the data \(ids look like: [^\n]*\)\n$/);
  });

  it("--models: each condition's column comes from its own model (a dssr table --save-models folder); a missing one is one line", async () => {
    // A second model, other weights, saved as the table's "t" run; the first as its "atv" run.
    const params = initParams(SHAPE, 12);
    await saveModel(join(root, "tab", "t", "model"), { ...model, params, condition: "t", config: { ...model.config, condition: "t" } });
    tree.dispose(params as never);
    await saveModel(join(root, "tab", "atv", "model"), { ...model, condition: "atv" });
    const own = new Map<Condition, LoadedModel>([["t", await loadModel(join(root, "tab", "t", "model"))], ["atv", model]]);
    const f = await plotCaseAnalysis(own, input.videos, { utterances: chosen, conditions: ["t", "atv"] });
    for (const row of f.data.rows) {
      const video = input.videos.find((v) => v.id === row.video)!;
      for (const [k, condition] of (["t", "atv"] as Condition[]).entries()) {
        const keep = availableModalities(condition);
        const only: PredictVideo = {
          id: video.id,
          utterances: video.utterances.map((u) => ({ id: u.id, features: Object.fromEntries(keep.map((m) => [m, u.features[m]])) })),
        };
        const ref = (await predict(own.get(condition)!, [only])).videos[0].utterances.find((u) => u.id === row.utterance)!;
        assert.deepEqual([row.cells[k].alpha, row.cells[k].score], [ref.alpha, ref.score], `${row.utterance} under ${condition}`);
      }
      const single = (await predict(model, [{ id: video.id, utterances: video.utterances.map((u) => ({ id: u.id, features: { t: u.features.t } })) }]))
        .videos[0].utterances.find((u) => u.id === row.utterance)!;
      assert.notEqual(row.cells[0].score, single.score, "the t column is not the atv model's");
    }
    assert.match(f.data.title, /one model per condition, trained under it/);
    tree.dispose(own.get("t")!.params as never);

    const base = ["plot", "case", "--data-dir", data, "--utterances", chosen.join(","), "--out", join(root, "figs", "own")];
    const r = await runBin([...base, "--models", join(root, "tab"), "--conditions", "t,atv"], root);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.match(readFileSync(join(root, "figs", "own.svg"), "utf8"), /models .*tab\/&lt;condition&gt;\/model|models .*tab\/<condition>\/model/);
    const missing = await runBin([...base, "--models", join(root, "tab"), "--conditions", "t,av"], root);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^dssr: --models: no saved model for condition av at .*tab\/av\/model \(dssr table --save-models writes one per run\); models there: t, atv \(choose with --conditions\)\n$/);
    const run = await runBin([...base, "--model", join(root, "tab", "t")], root);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^dssr: cannot read model file .*tab\/t\/model\.json: ENOENT \(the run's model is in .*tab\/t\/model\)\n$/);
    const both = await runBin([...base, "--models", join(root, "tab"), "--model", join(root, "m")], root);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /^dssr: give exactly one of --model .* and --models /);
  });

  it("an unknown or ambiguous utterance, or a stage-1 model, is a ConfigError", async () => {
    await assert.rejects(plotCaseAnalysis(model, input.videos, { utterances: ["no-such-utterance"], conditions: ["a"] }), (e: unknown) =>
      e instanceof ConfigError && /utterance 'no-such-utterance' is not in the data \(ids look like: /.test(e.message));
    const twice = [input.videos[0], { ...input.videos[0], id: "copy" }];
    await assert.rejects(plotCaseAnalysis(model, twice, { utterances: [input.videos[0].utterances[0].id], conditions: ["a"] }), (e: unknown) =>
      e instanceof ConfigError && /is in several videos/.test(e.message));
    await assert.rejects(plotCaseAnalysis({ ...model, stage: 1 }, input.videos, { utterances: chosen }), (e: unknown) =>
      e instanceof ConfigError && /ended in stage 1/.test(e.message));
  });
});
