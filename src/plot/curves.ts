/**
 * Training curves from a results document (report/results.ts): two panels over the epochs —
 * the training loss and its parts as the history records them (log scale), and the test and
 * validation metrics (Acc-2/F1 for MOSI/MOSEI, WA/UA for IEMOCAP) — with a vertical rule where
 * the subtle stage starts and the epochs each selection rule picked marked on the test metric.
 */
import type { TopLevelSpec } from "vega-lite";
import type { EpochRecord, LossParts, Metrics, SelectionRule } from "../eval/types.js";
import { SELECTION_RULES } from "../eval/types.js";
import { readResults, type ResultsJson } from "../report/results.js";
import { BASE_CONFIG, renderVegaLite, type Figure, type RenderOptions } from "./render.js";

/** The loss series, in legend order: the history key and its label. */
export const LOSS_SERIES: readonly (readonly [keyof LossParts, string])[] = [
  ["total", "total"],
  ["task", "task (fused)"],
  ["taskA", "task, a head"],
  ["taskT", "task, t head"],
  ["taskV", "task, v head"],
  ["dcl", "DCL (stage 1, ×0.5 in total)"],
  ["rec", "REC (stage 2, ×200 in total)"],
];

const LOSS_COLORS = ["#222222", "#1f77b4", "#e45756", "#54a24b", "#b279a2", "#f58518", "#9d755d"];

export interface CurveRow {
  epoch: number;
  series: string;
  value: number;
}

export interface MetricRow {
  epoch: number;
  metric: string;
  split: "test" | "val";
  value: number;
}

export interface CurvesData {
  title: string;
  subtitle: string[];
  epochs: number;
  /** 1-based x of the stage rule (between the last stage-1 epoch and the first stage-2 one), or null. */
  stageRule: number | null;
  losses: CurveRow[];
  metrics: MetricRow[];
  /** The selected epochs (1-based), with the rules that picked each and the test metric there. */
  selected: { epoch: number; rules: string; value: number }[];
  metricNames: [string, string];
}

/** The two metrics drawn and how to read them from a record. */
function metricPair(m: Metrics): [[string, number], [string, number]] {
  return m.kind === "regression"
    ? [["Acc-2", m.acc2], ["F1", m.f1]]
    : [["WA", m.wa], ["UA", m.ua]];
}

/** The rows the figure draws; non-finite values (a diverged epoch) are left out. */
export function curvesData(results: ResultsJson): CurvesData {
  const history: EpochRecord[] = results.history;
  const c = results.config;
  const losses: CurveRow[] = [];
  const metrics: MetricRow[] = [];
  for (const r of history) {
    const epoch = r.epoch + 1;
    for (const [key, label] of LOSS_SERIES) {
      const v = r.trainLoss[key];
      if (typeof v === "number" && Number.isFinite(v) && v > 0) losses.push({ epoch, series: label, value: v });
    }
    for (const split of ["test", "val"] as const) {
      const m = r[split];
      if (!m) continue;
      for (const [name, v] of metricPair(m)) if (Number.isFinite(v)) metrics.push({ epoch, metric: name, split, value: 100 * v });
    }
  }
  const kind = history[0].test.kind;
  const metricNames: [string, string] = kind === "regression" ? ["Acc-2", "F1"] : ["WA", "UA"];

  const byEpoch = new Map<number, SelectionRule[]>();
  for (const rule of SELECTION_RULES) {
    const s = results.selections[rule];
    byEpoch.set(s.epoch, [...(byEpoch.get(s.epoch) ?? []), rule]);
  }
  const selected = [...byEpoch]
    .map(([e, rules]) => ({ epoch: e + 1, rules: rules.join(" + "), value: 100 * metricPair(results.selections[rules[0]].test)[0][1] }))
    .filter((s) => Number.isFinite(s.value))
    .sort((a, b) => a.epoch - b.epoch);

  const epochs = history.length === 0 ? 0 : history[history.length - 1].epoch + 1;
  const hasStage1 = history.some((r) => r.stage === 1);
  const hasStage2 = history.some((r) => r.stage === 2);
  const stageRule = hasStage1 && hasStage2 ? c.stageEpoch + 0.5 : null;

  const fold = results.fold === undefined ? "" : ` · fold ${results.fold}`;
  const title = `${results.dataset.name} · condition ${c.condition} · seed ${c.seed}${fold}: training curves`;
  const stages =
    stageRule === null
      ? `${epochs} epochs, all in stage ${hasStage1 ? 1 : 2}`
      : `stage 1 (salient) epochs 1–${c.stageEpoch}, stage 2 (subtle) epochs ${c.stageEpoch + 1}–${epochs}`;
  const first = metricNames[0];
  const picks = SELECTION_RULES.map((rule) => {
    const s = results.selections[rule];
    const v = 100 * metricPair(s.test)[0][1];
    return `${rule} → epoch ${s.epoch + 1} (test ${first} ${Number.isFinite(v) ? v.toFixed(1) : "n/a"})`;
  }).join(", ");
  const subtitle = [
    `${stages}; lr ${c.lr}, batch ${c.batchSize}, D_e ${c.hidden}, dropout ${c.dropout}, normalize ${c.normalize}`,
    `selected epochs (◆ on the test ${first} curve): ${picks}`,
  ];
  return { title, subtitle, epochs, stageRule, losses, metrics, selected, metricNames };
}

export interface CurvesOptions extends RenderOptions {
  /** Width of each panel's plot area in pixels (default 640). */
  width?: number;
}

/** The Vega-Lite spec of the training-curves figure. */
export function curvesSpec(d: CurvesData, opts: CurvesOptions = {}): TopLevelSpec {
  const width = opts.width ?? 640;
  const height = 230;
  const x = {
    field: "epoch",
    type: "quantitative",
    title: "epoch",
    scale: { domain: [1, Math.max(2, d.epochs)], nice: false },
    axis: { tickMinStep: 1, format: "d" },
  } as const;
  // The stage label sits at the top of the loss panel and at the bottom of the metric panel,
  // where the selection labels (above the best epochs) do not reach.
  const ruleLayers = (name: string, top: boolean) =>
    d.stageRule === null
      ? []
      : [
          {
            name,
            data: { values: [{ epoch: d.stageRule }] },
            mark: { type: "rule", color: "#666", strokeDash: [5, 3], strokeWidth: 1.2 },
            encoding: { x },
          },
          {
            data: { values: [{ epoch: d.stageRule, text: "stage 2 (subtle) →" }] },
            mark: {
              type: "text", align: "left", baseline: top ? "top" : "bottom", dx: 5,
              y: top ? 4 : height - 4, color: "#555", fontSize: 11,
            },
            encoding: { x, text: { field: "text" } },
          },
          {
            data: { values: [{ epoch: d.stageRule, text: "← stage 1 (salient)" }] },
            mark: {
              type: "text", align: "right", baseline: top ? "top" : "bottom", dx: -5,
              y: top ? 4 : height - 4, color: "#555", fontSize: 11,
            },
            encoding: { x, text: { field: "text" } },
          },
        ];
  const lossDomain = LOSS_SERIES.map(([, l]) => l).filter((l) => d.losses.some((r) => r.series === l));
  const lossColors = lossDomain.map((l) => LOSS_COLORS[LOSS_SERIES.findIndex(([, s]) => s === l)]);
  const lossY = { field: "value", type: "quantitative", title: "training loss (log scale)", scale: { type: "log" } } as const;
  const lossColor = { field: "series", type: "nominal", title: "loss term", scale: { domain: lossDomain, range: lossColors }, legend: { symbolType: "stroke", symbolStrokeWidth: 2.5 } } as const;
  const lossPanel = {
    width,
    height,
    title: { text: "Training loss per epoch (mean over batches)", fontSize: 12.5, fontWeight: "bold" },
    data: { values: d.losses },
    layer: [
      { name: "loss_lines", mark: { type: "line", strokeWidth: 1.6 }, encoding: { x, y: lossY, color: lossColor } },
      { name: "loss_points", mark: { type: "point", filled: true, size: 14 }, encoding: { x, y: lossY, color: lossColor } },
      ...ruleLayers("stage_rule", true),
    ],
  };
  // Selection labels sit above their diamond; one within 70 px of the previous label goes below it.
  const pxPerEpoch = width / Math.max(1, d.epochs - 1);
  const labels = d.selected.map((s) => ({ ...s, above: true }));
  labels.forEach((l, i) => {
    if (i > 0 && labels[i - 1].above && (l.epoch - labels[i - 1].epoch) * pxPerEpoch < 70) l.above = false;
  });
  const mY = { field: "value", type: "quantitative", title: "metric (%)", scale: { zero: false } } as const;
  const mColor = {
    field: "metric",
    type: "nominal",
    title: "metric",
    scale: { domain: d.metricNames, range: ["#1f77b4", "#e45756"] },
    legend: { symbolType: "stroke", symbolStrokeWidth: 2.5 },
  } as const;
  const mDash = {
    field: "split",
    type: "nominal",
    title: "split",
    scale: { domain: ["test", "val"], range: [[1, 0], [5, 3]] },
    legend: { symbolType: "stroke", symbolStrokeWidth: 2, symbolStrokeColor: "#333", labelExpr: "datum.label === 'val' ? 'validation' : 'test'" },
  } as const;
  const metricPanel = {
    width,
    height,
    title: { text: `Test and validation ${d.metricNames.join(" / ")} per epoch`, fontSize: 12.5, fontWeight: "bold" },
    layer: [
      {
        name: "metric_lines",
        data: { values: d.metrics },
        mark: { type: "line", strokeWidth: 1.6 },
        encoding: { x, y: mY, color: mColor, strokeDash: mDash, detail: { field: "split" } },
      },
      {
        name: "metric_points",
        data: { values: d.metrics },
        mark: { type: "point", filled: true, size: 16 },
        encoding: { x, y: mY, color: mColor, detail: { field: "split" } },
      },
      ...ruleLayers("stage_rule_metrics", false),
      {
        name: "selected_points",
        data: { values: d.selected },
        mark: { type: "point", shape: "diamond", filled: true, size: 110, color: "black", stroke: "white", strokeWidth: 1 },
        encoding: { x, y: { field: "value", type: "quantitative" } },
      },
      ...[true, false].map((above) => ({
        data: { values: labels.filter((l) => l.above === above) },
        mark: { type: "text", dy: above ? -12 : 14, fontSize: 10.5, color: "black" },
        encoding: { x, y: { field: "value", type: "quantitative" }, text: { field: "rules" } },
      })),
    ],
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: d.title, subtitle: d.subtitle },
    config: BASE_CONFIG,
    vconcat: [lossPanel, metricPanel],
    spacing: 28,
    resolve: { scale: { color: "independent", strokeDash: "independent" }, legend: { color: "independent" } },
  } as unknown as TopLevelSpec;
}

/** The training-curves figure of a results document or a results.json path. */
export async function plotTrainingCurves(results: ResultsJson | string, opts: CurvesOptions = {}): Promise<Figure & { data: CurvesData }> {
  const doc = typeof results === "string" ? await readResults(results) : results;
  const data = curvesData(doc);
  const figure = await renderVegaLite(curvesSpec(data, opts), opts);
  return { ...figure, data };
}
