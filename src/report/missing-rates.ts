/**
 * The random missing-rate protocol's table (GCNet; data/missing.ts): one row per missing rate r,
 * test Acc-2/F1 (MOSI/MOSEI) or WA/UA (IEMOCAP), one table per selection rule, each headed by the
 * protocol and its rule. A cell is, per seed, the mean over the IEMOCAP folds (if any), then mean ±
 * sample std over seeds — as the condition table (report/table.ts). Each row also shows the measured
 * fraction of missing test cells, so a rate above 2/3 (run at 2/3) shows what it really was.
 * Pure functions; src/missing-rates.ts trains the runs.
 */
import type { TrainConfig } from "../config/types.js";
import type { DatasetName, Task } from "../data/types.js";
import { ConfigError } from "../errors.js";
import { RULE_SUMMARY } from "../eval/selection.js";
import { SELECTION_RULES, type Metrics, type Selections, type SelectionRule } from "../eval/types.js";
import type { MissingRateInfo } from "../train/loop.js";
import { csvField, finite, mean, pct, stat, statJson, type Stat, type TableFormat } from "./table.js";

/** One finished run of the protocol. */
export interface MissingRateRun {
  rate: number;
  seed: number;
  fold: number | null;
  config: TrainConfig;
  selections: Selections;
  missing: MissingRateInfo;
  /** The results.json written, or null. */
  resultsPath: string | null;
}

export interface MissingRateRow {
  rate: number;
  /** min(rate, 2/3): the expected fraction of missing cells. */
  effectiveRate: number;
  /** Measured fraction of missing (utterance, modality) cells among the test utterances, over seeds. */
  missingTest: Stat;
}

export interface MissingRateSection {
  rule: SelectionRule;
  /** The sentence printed with the table: the protocol and the rule. */
  selection: string;
  /** Per row (rates order): the two metrics. */
  cells: [Stat, Stat][];
}

export interface MissingRateTable {
  dataset: DatasetName;
  task: Task;
  metrics: [string, string];
  rates: number[];
  seeds: number[];
  folds: number[] | null;
  rows: MissingRateRow[];
  sections: MissingRateSection[];
  runs: MissingRateRun[];
}

export const MISSING_RATE_PROTOCOL =
  "random missing-rate protocol (GCNet): every (utterance, modality) missing with probability r, " +
  "at least one modality kept per utterance, masks fixed per seed";

function pair(m: Metrics): [number, number] {
  return m.kind === "regression" ? [m.acc2, m.f1] : [m.wa, m.ua];
}

/** Runs → the table; every rate must have the same seeds × folds (a ConfigError otherwise). */
export function aggregateMissingRates(runs: readonly MissingRateRun[]): MissingRateTable {
  if (runs.length === 0) throw new ConfigError("no runs to build a missing-rate table from");
  const dataset = runs[0].config.dataset;
  const kind = runs[0].selections.paper.test.kind;
  const seen = new Map<string, MissingRateRun>();
  for (const r of runs) {
    if (r.config.dataset !== dataset) throw new ConfigError(`runs of different datasets cannot share a table: ${dataset} and ${r.config.dataset}`);
    if (r.selections.paper.test.kind !== kind) throw new ConfigError("runs mix regression and classification");
    const key = `${r.rate}/${r.seed}/${r.fold}`;
    if (seen.has(key)) throw new ConfigError(`two runs of rate ${r.rate}, seed ${r.seed}` + (r.fold === null ? "" : `, fold ${r.fold}`));
    seen.set(key, r);
  }
  const rates = [...new Set(runs.map((r) => r.rate))].sort((a, b) => a - b);
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const folds = runs[0].fold === null ? null : [...new Set(runs.map((r) => r.fold as number))].sort((a, b) => a - b);
  const get = (rate: number, seed: number, fold: number | null) => {
    const r = seen.get(`${rate}/${seed}/${fold}`);
    if (r === undefined) throw new ConfigError(`every rate needs the same seeds and folds; missing: rate ${rate}, seed ${seed}` + (fold === null ? "" : `, fold ${fold}`));
    return r;
  };
  /** Per seed, the fold mean of f(run); then the summary over seeds. */
  const over = (rate: number, f: (r: MissingRateRun) => number): Stat =>
    stat(seeds.map((s) => mean((folds ?? [null]).map((fold) => f(get(rate, s, fold))))));
  const rows = rates.map((rate) => ({
    rate,
    effectiveRate: runs.find((r) => r.rate === rate)!.missing.effectiveRate,
    missingTest: over(rate, (r) => r.missing.fraction.test),
  }));
  const sections = SELECTION_RULES.map((rule) => ({
    rule,
    selection: `${RULE_SUMMARY[rule]}`,
    cells: rates.map((rate) => [over(rate, (r) => pair(r.selections[rule].test)[0]), over(rate, (r) => pair(r.selections[rule].test)[1])] as [Stat, Stat]),
  }));
  return {
    dataset, task: kind, metrics: kind === "regression" ? ["Acc-2", "F1"] : ["WA", "UA"],
    rates, seeds, folds, rows, sections, runs: [...runs],
  };
}

// ---------------------------------------------------------------------------------------------
// Formats

export function formatMissingRates(t: MissingRateTable, format: TableFormat): string {
  switch (format) {
    case "md":
      return missingRatesMarkdown(t);
    case "csv":
      return missingRatesCsv(t);
    case "json":
      return JSON.stringify(missingRatesJson(t), null, 2);
    default:
      throw new ConfigError(`unknown table format '${String(format)}'; expected md, csv, json`);
  }
}

/** A rate as given (0, 0.1, …, 0.7). */
export function rateText(r: number): string {
  return String(r);
}

function preamble(t: MissingRateTable): string[] {
  const lines = [
    `Test ${t.metrics.join("/")} (%) per missing rate r, ${MISSING_RATE_PROTOCOL} (a function of the seed and the ` +
      "utterance id). The generation module fills in each utterance's missing modalities; stage 1 trains on all " +
      "modalities, stage 2 trains and is evaluated under the masks (train, validation and test utterances alike).",
    "Keeping one modality caps the missing fraction at 2/3: a rate above it runs at 2/3 (every utterance keeps " +
      "exactly one modality), as GCNet's masks do. 'missing' is the measured fraction of missing test cells.",
    t.seeds.length === 1
      ? `One run per cell (seed ${t.seeds[0]}).`
      : `Each cell: mean ± sample std over ${t.seeds.length} seeds (${t.seeds.join(", ")}), each seed with its own masks.`,
  ];
  if (t.folds !== null) lines.push(`Each run: the mean over the IEMOCAP leave-one-session-out folds ${t.folds.join(", ")}.`);
  return lines;
}

function mdStat(s: Stat): string {
  return pct(s.mean) + (s.std === null ? "" : `±${pct(s.std)}`);
}

export function missingRatesMarkdown(t: MissingRateTable): string {
  const out = [`# DSSR on ${t.dataset}: random missing-rate protocol`, "", ...preamble(t)];
  for (const s of t.sections) {
    out.push(
      "",
      `## Missing-rate protocol, selection: ${s.selection}`,
      "",
      `| r | missing (%) | ${t.metrics[0]} | ${t.metrics[1]} |`,
      "|---|---|---|---|",
      ...t.rows.map((row, i) => `| ${rateText(row.rate)} | ${pct(row.missingTest.mean)} | ${mdStat(s.cells[i][0])} | ${mdStat(s.cells[i][1])} |`),
    );
  }
  return out.join("\n");
}

/**
 * One row per (rule, rate, statistic): dataset, protocol, rule, selection, rate, effective_rate,
 * missing_test (%), stat (mean; std with several seeds), then the two metrics in %.
 */
export function missingRatesCsv(t: MissingRateTable): string {
  const rows: string[][] = [["dataset", "protocol", "rule", "selection", "rate", "effective_rate", "missing_test", "stat", ...t.metrics]];
  const stats: ("mean" | "std")[] = t.seeds.length > 1 ? ["mean", "std"] : ["mean"];
  for (const s of t.sections) {
    t.rows.forEach((row, i) => {
      for (const which of stats) {
        const v = (x: Stat) => (which === "mean" ? pct(x.mean) : x.std === null ? "" : pct(x.std));
        rows.push([
          t.dataset, "missing-rate", s.rule, s.selection, rateText(row.rate), String(+row.effectiveRate.toFixed(6)),
          v(row.missingTest), which, v(s.cells[i][0]), v(s.cells[i][1]),
        ]);
      }
    });
  }
  return rows.map((r) => r.map(csvField).join(",")).join("\n");
}

export const MISSING_RATES_JSON_FORMAT = "dssr-missing-rates/1";

/** As data: fractions in [0, 1], NaN as null, every run with its selections and masks' fractions. */
export function missingRatesJson(t: MissingRateTable): unknown {
  return {
    format: MISSING_RATES_JSON_FORMAT,
    protocol: MISSING_RATE_PROTOCOL,
    dataset: t.dataset,
    task: t.task,
    metrics: t.metrics,
    rates: t.rates,
    seeds: t.seeds,
    folds: t.folds,
    tables: t.sections.map((s) => ({
      rule: s.rule,
      selection: s.selection,
      rows: t.rows.map((row, i) => ({
        rate: row.rate, effectiveRate: row.effectiveRate, missingTest: statJson(row.missingTest),
        [t.metrics[0]]: statJson(s.cells[i][0]), [t.metrics[1]]: statJson(s.cells[i][1]),
      })),
    })),
    runs: t.runs.map((r) => ({
      rate: r.rate, seed: r.seed, fold: r.fold, resultsPath: r.resultsPath,
      missing: { ...r.missing, fraction: { train: finite(r.missing.fraction.train), val: finite(r.missing.fraction.val), test: finite(r.missing.fraction.test) } },
      selections: Object.fromEntries(SELECTION_RULES.map((rule) => [rule, {
        epoch: r.selections[rule].epoch,
        test: Object.fromEntries(Object.entries(r.selections[rule].test).map(([k, v]) => [k, typeof v === "number" ? finite(v) : v])),
      }])),
    })),
  };
}
