/**
 * Case analysis: for a few chosen utterances, what a saved model does under each
 * missing-modality condition — the router weights α over (a, t, v) and the MHDW head weights w̄
 * of each modality's encoder (spec §2.3), with the label and the prediction. One row per
 * utterance: stacked bars of α per condition (modalities the condition lacks, which the
 * generation module fills in, drawn pale), and a heatmap of w̄ (modality × head, per condition).
 *
 * The numbers come from `predict` (predict.ts), called once per condition on the whole videos the
 * utterances belong to, with only that condition's modalities given: each utterance attends to
 * its video's other utterances exactly as in evaluation. The models are one saved model for every
 * condition (how it copes with modalities missing at test time), or, as in the paper's protocol,
 * one model per condition, each trained under it (`dssr table --save-models`).
 */
import type { TopLevelSpec } from "vega-lite";
import { availableModalities, CONDITIONS, type Condition } from "../config/types.js";
import { MODALITIES, type LabelFile, type PerModality } from "../data/types.js";
import { ConfigError } from "../errors.js";
import { predict, type PredictModel, type PredictVideo } from "../predict.js";
import { BASE_CONFIG, renderVegaLite, type Figure, type RenderOptions } from "./render.js";

export const MODALITY_NAMES: PerModality<string> = { a: "a (audio)", t: "t (text)", v: "v (video)" };
const MODALITY_COLORS = ["#e45756", "#4c78a8", "#54a24b"];

export interface CaseOptions extends RenderOptions {
  /** Utterance ids, or `video/utterance`, in the order of the rows. */
  utterances: readonly string[];
  /** Default: all seven, in the paper's order (a, t, v, at, av, tv, atv). */
  conditions?: readonly Condition[];
  /** Labels per utterance, keyed `video/utterance` (see `caseLabels`). */
  labels?: ReadonlyMap<string, number>;
  /** Transcripts per utterance, keyed `video/utterance`, shown in each row's title. */
  transcripts?: ReadonlyMap<string, string>;
  /** predict's modality policy (default "restrict": see predict.ts). */
  modalities?: "restrict" | "as-given";
  /** Class names for classification models (default: class 0, 1, …). */
  classNames?: readonly string[];
  /** A line under the title, e.g. where the model came from. */
  subtitle?: string;
}

/** One utterance under one condition. */
export interface CaseCell {
  video: string;
  utterance: string;
  /** The condition asked for (the modalities given to predict). */
  condition: Condition;
  /** The condition the forward ran under (differs under "restrict" for a model of fewer modalities). */
  ran: Condition;
  alpha: PerModality<number>;
  headWeights: PerModality<number[]>;
  score?: number;
  probabilities?: number[];
  predictedClass?: number;
  label?: number;
}

export interface CaseData {
  title: string;
  subtitle: string[];
  conditions: Condition[];
  task: "regression" | "classification";
  heads: number;
  /** Per chosen utterance, in order: its cells, one per condition, in order. */
  rows: { video: string; utterance: string; label?: number; transcript?: string; cells: CaseCell[] }[];
  classNames: string[];
  warnings: string[];
}

/** Labels and transcripts of every utterance of a label file, keyed `video/utterance`. */
export function caseLabels(labels: LabelFile): { labels: Map<string, number>; transcripts: Map<string, string> } {
  const l = new Map<string, number>();
  const t = new Map<string, string>();
  for (const [vid, ids] of labels.videoIds) {
    const ys = labels.videoLabels.get(vid) ?? [];
    const ss = labels.videoSentences.get(vid) ?? [];
    ids.forEach((u, i) => {
      if (ys[i] !== undefined) l.set(`${vid}/${u}`, ys[i]);
      if (typeof ss[i] === "string" && ss[i].trim() !== "") t.set(`${vid}/${u}`, ss[i].trim());
    });
  }
  return { labels: l, transcripts: t };
}

/** Find each requested utterance (bare id or `video/utterance`) in the videos; ConfigError if missing or ambiguous. */
export function findUtterances(videos: readonly PredictVideo[], ids: readonly string[]): { video: string; utterance: string }[] {
  if (ids.length === 0) throw new ConfigError("no utterances chosen: give at least one utterance id");
  const where = new Map<string, string[]>();
  for (const v of videos) for (const u of v.utterances) where.set(u.id, [...(where.get(u.id) ?? []), v.id]);
  const seen = new Set<string>();
  return ids.map((id) => {
    let found: { video: string; utterance: string } | undefined;
    const slash = id.lastIndexOf("/");
    if (slash > 0 && videos.some((v) => v.id === id.slice(0, slash) && v.utterances.some((u) => u.id === id.slice(slash + 1)))) {
      found = { video: id.slice(0, slash), utterance: id.slice(slash + 1) };
    } else {
      const vids = where.get(id) ?? [];
      if (vids.length > 1) throw new ConfigError(`utterance id '${id}' is in several videos (${vids.slice(0, 3).join(", ")}); give it as video/utterance`);
      if (vids.length === 1) found = { video: vids[0], utterance: id };
    }
    if (!found) {
      const some = videos.flatMap((v) => v.utterances.map((u) => u.id)).slice(0, 3);
      throw new ConfigError(`utterance '${id}' is not in the data (ids look like: ${some.join(", ")})`);
    }
    const key = `${found.video}/${found.utterance}`;
    if (seen.has(key)) throw new ConfigError(`utterance '${id}' is chosen twice`);
    seen.add(key);
    return found;
  });
}

/** One model for every condition, or one per condition (each trained under it). */
export type CaseModels = PredictModel | ReadonlyMap<Condition, PredictModel>;

/** Run predict under each condition and collect the chosen utterances' α, w̄ and predictions. */
export async function caseAnalysisData(models: CaseModels, videos: readonly PredictVideo[], opts: CaseOptions): Promise<CaseData> {
  const conditions = [...(opts.conditions ?? CONDITIONS)];
  if (conditions.length === 0) throw new ConfigError("no conditions given");
  const perCondition = models instanceof Map;
  const modelFor = (c: Condition): PredictModel => {
    if (!(models instanceof Map)) return models as PredictModel;
    const m = models.get(c);
    if (m === undefined) throw new ConfigError(`no model for condition ${c} (models given for ${[...models.keys()].join(", ")})`);
    return m;
  };
  const model = modelFor(conditions[0]);
  for (const c of conditions) {
    const m = modelFor(c);
    if (m.stage === 1) {
      throw new ConfigError(
        `${perCondition ? `the model of condition ${c}` : "this model"}: its training ended in stage 1 (epochs ${m.config.epochs}, stage_epoch ${m.config.stageEpoch}): ` +
          "it has no subtle stage, so no router weights α or MHDW head weights to plot",
      );
    }
    if (m.task !== model.task || m.shape.heads !== model.shape.heads || m.shape.nClasses !== model.shape.nClasses) {
      throw new ConfigError(`the models of conditions ${conditions[0]} and ${c} differ in task, heads or classes; one figure needs them alike`);
    }
  }
  const chosen = findUtterances(videos, opts.utterances);
  const byId = new Map(videos.map((v) => [v.id, v]));
  const needed = [...new Set(chosen.map((c) => c.video))].map((id) => byId.get(id)!);
  const cells = new Map<string, CaseCell>();
  const warnings: string[] = [];
  for (const condition of conditions) {
    const keep = availableModalities(condition);
    const restricted: PredictVideo[] = needed.map((v) => ({
      id: v.id,
      utterances: v.utterances
        .map((u) => ({ id: u.id, features: Object.fromEntries(keep.filter((m) => u.features[m] != null).map((m) => [m, u.features[m]])) }))
        .filter((u) => Object.keys(u.features).length > 0),
    }));
    const res = await predict(modelFor(condition), restricted, { modalities: opts.modalities ?? "restrict" });
    warnings.push(...res.warnings.map((w) => `condition ${condition}: ${w}`));
    for (const v of res.videos) {
      for (const u of v.utterances) {
        const key = `${v.id}/${u.id}`;
        if (!chosen.some((c) => c.video === v.id && c.utterance === u.id)) continue;
        if (u.given !== condition) warnings.push(`condition ${condition}: utterance ${key} has only ${u.given} of its modalities`);
        const cell: CaseCell = {
          video: v.id, utterance: u.id, condition, ran: u.condition, alpha: u.alpha!, headWeights: u.headWeights!,
        };
        if (u.score !== undefined) cell.score = u.score;
        if (u.probabilities !== undefined) cell.probabilities = u.probabilities;
        if (u.predictedClass !== undefined) cell.predictedClass = u.predictedClass;
        const label = opts.labels?.get(key);
        if (label !== undefined) cell.label = label;
        cells.set(`${key}|${condition}`, cell);
      }
    }
  }
  const rows = chosen.map(({ video, utterance }) => {
    const key = `${video}/${utterance}`;
    const row: CaseData["rows"][number] = {
      video,
      utterance,
      cells: conditions.flatMap((c) => {
        const cell = cells.get(`${key}|${c}`);
        if (!cell) warnings.push(`condition ${c}: utterance ${key} has none of the modalities ${c}; its cell is empty`);
        return cell ? [cell] : [];
      }),
    };
    const label = opts.labels?.get(key);
    if (label !== undefined) row.label = label;
    const text = opts.transcripts?.get(key);
    if (text !== undefined) row.transcript = text;
    return row;
  });
  const nClasses = model.shape.nClasses;
  const classNames = model.task === "classification"
    ? Array.from({ length: nClasses }, (_, i) => opts.classNames?.[i] ?? `class ${i}`)
    : [];
  const c = model.config;
  return {
    title: `${c.dataset} · ${perCondition ? "one model per condition, trained under it" : `model trained under ${model.condition}`} · seed ${c.seed}: ` +
      "router weights α and MHDW head weights w̄",
    subtitle: [
      ...(opts.subtitle === undefined ? [] : [opts.subtitle]),
      "bars: α over a/t/v per test condition (pale: a modality the condition lacks, generated from the others); " +
        `heatmap: w̄ of each modality's encoder over its ${model.shape.heads} heads (softmax over heads, mean over layers)`,
    ],
    conditions,
    task: model.task,
    heads: model.shape.heads,
    rows,
    classNames,
    warnings,
  };
}

function fmtLabel(d: CaseData, y: number): string {
  if (d.task === "regression") return `label ${y >= 0 ? "+" : ""}${y.toFixed(2)}`;
  return `label ${d.classNames[y] ?? String(y)}`;
}

function fmtPrediction(d: CaseData, cell: CaseCell): string {
  if (d.task === "regression") return `${cell.score! >= 0 ? "+" : ""}${cell.score!.toFixed(2)}`;
  const k = cell.predictedClass!;
  return `${d.classNames[k] ?? k} ${(100 * cell.probabilities![k]).toFixed(0)}%`;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1).trimEnd() + "…";
}

/** The Vega-Lite spec of the case-analysis figure. */
export function caseSpec(d: CaseData): TopLevelSpec {
  const colW = 46;
  const barH = 120;
  const conditionX = {
    field: "condition",
    type: "nominal",
    title: "test condition (available modalities)",
    scale: { domain: d.conditions, paddingInner: 0.25 },
    sort: d.conditions,
    axis: { labelAngle: 0, labelFontSize: 11.5 },
  } as const;
  const wValues = d.rows.flatMap((r) => r.cells.flatMap((c) => MODALITIES.flatMap((m) => c.headWeights[m])));
  const wMin = Math.min(...wValues);
  const wMax = Math.max(...wValues);
  const lastRow = d.rows.length - 1;
  const rows = d.rows.map((r, i) => {
    const alphaRows = r.cells.flatMap((c) =>
      MODALITIES.map((m, k) => ({
        condition: c.condition,
        modality: MODALITY_NAMES[m],
        order: k,
        alpha: c.alpha[m],
        source: availableModalities(c.ran).includes(m) ? "given" : "generated",
        text: c.alpha[m] >= 0.09 ? c.alpha[m].toFixed(2).replace(/^0/, "") : "",
      })),
    );
    const predRows = r.cells.map((c) => ({
      condition: c.condition,
      text: fmtPrediction(d, c) + (c.ran === c.condition ? "" : ` (ran ${c.ran})`),
    }));
    const wRows = r.cells.flatMap((c) =>
      MODALITIES.flatMap((m) => c.headWeights[m].map((w, k) => ({ condition: c.condition, modality: MODALITY_NAMES[m], head: k + 1, w }))),
    );
    const head = [`${r.utterance}${r.utterance.startsWith(r.video) ? "" : ` (video ${r.video})`}`];
    if (r.label !== undefined) head.push(fmtLabel(d, r.label));
    const title = head.join(" · ") + (r.transcript === undefined ? "" : `: “${truncate(r.transcript, 90)}”`);
    const xAxis = i === lastRow ? conditionX : { ...conditionX, title: null };
    const alphaChart = {
      name: `alpha_${i}`,
      width: colW * d.conditions.length,
      height: barH,
      title: i === 0 ? { text: d.task === "regression" ? "router weights α (above: prediction ŷ)" : "router weights α (above: predicted class)", fontSize: 11.5, fontWeight: "normal", anchor: "middle" } : undefined,
      layer: [
        {
          name: `alpha_bars_${i}`,
          data: { values: alphaRows },
          mark: { type: "bar", stroke: "white", strokeWidth: 0.5 },
          encoding: {
            x: xAxis,
            y: { field: "alpha", type: "quantitative", stack: "zero", title: "α", scale: { domain: [0, 1] }, axis: { values: [0, 0.25, 0.5, 0.75, 1], format: ".2f" } },
            color: { field: "modality", type: "nominal", title: "modality", scale: { domain: MODALITIES.map((m) => MODALITY_NAMES[m]), range: MODALITY_COLORS } },
            opacity: { field: "source", type: "ordinal", title: "in the condition", scale: { domain: ["given", "generated"], range: [1, 0.35] } },
            order: { field: "order", type: "quantitative" },
          },
        },
        {
          data: { values: alphaRows },
          mark: { type: "text", fontSize: 9.5, baseline: "middle" },
          encoding: {
            color: { condition: { test: "datum.source === 'generated'", value: "#333" }, value: "white" },
            x: { ...xAxis },
            y: { field: "alpha", type: "quantitative", stack: "zero", bandPosition: 0.5 },
            order: { field: "order", type: "quantitative" },
            text: { field: "text" },
          },
        },
        {
          data: { values: predRows },
          mark: { type: "text", fontSize: 10, baseline: "bottom", dy: -3, color: "#222" },
          encoding: { x: { ...xAxis }, y: { datum: 1 }, text: { field: "text" } },
        },
      ],
    };
    const wChart = {
      name: `w_${i}`,
      width: 12 * d.heads * d.conditions.length,
      height: 3 * 26,
      title: i === 0 ? { text: `MHDW head weights w̄ (heads 1–${d.heads}, left to right, per condition)`, fontSize: 11.5, fontWeight: "normal", anchor: "middle" } : undefined,
      data: { values: wRows },
      mark: { type: "rect", stroke: "white", strokeWidth: 0.5 },
      encoding: {
        x: { ...xAxis, scale: { domain: d.conditions, paddingInner: 0.2 } },
        xOffset: { field: "head", type: "ordinal", scale: { domain: Array.from({ length: d.heads }, (_, k) => k + 1) } },
        y: { field: "modality", type: "nominal", title: null, sort: MODALITIES.map((m) => MODALITY_NAMES[m]) },
        fill: { field: "w", type: "quantitative", title: "w̄", scale: { scheme: "viridis", domain: [wMin, wMax] }, legend: { format: ".2f", gradientLength: 110 } },
      },
    };
    return { title: { text: title, fontSize: 12, fontWeight: "bold", anchor: "start" }, hconcat: [alphaChart, wChart], spacing: 30 };
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: d.title, subtitle: d.subtitle },
    config: BASE_CONFIG,
    vconcat: rows,
    spacing: 22,
    resolve: { scale: { color: "shared", fill: "shared", opacity: "shared" }, legend: { color: "shared", fill: "shared", opacity: "shared" } },
  } as unknown as TopLevelSpec;
}

/** The case-analysis figure of a saved model on the chosen utterances (see the module comment). */
export async function plotCaseAnalysis(
  model: CaseModels,
  videos: readonly PredictVideo[],
  opts: CaseOptions,
): Promise<Figure & { data: CaseData }> {
  const data = await caseAnalysisData(model, videos, opts);
  const figure = await renderVegaLite(caseSpec(data), opts);
  return { ...figure, data };
}
