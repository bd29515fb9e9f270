/**
 * The paper's Table 1 (spec §3) from many runs: one column per condition in the paper's order
 * (a, t, v, av, at, tv, Avg, atv; Avg = mean of the six missing conditions, atv excluded), test
 * Acc-2/F1 (MOSI/MOSEI) or WA/UA (IEMOCAP), one table per selection rule, each stating its rule.
 *
 * How runs become a cell: for one (condition, seed) the IEMOCAP fold runs are averaged (spec §2.6:
 * fold results are averaged); the per-seed values are then summarised as mean ± sample standard
 * deviation (n − 1; none with one seed). Avg is computed per seed (the mean of that seed's six
 * missing-condition values) and then summarised the same way, so its ± is the spread of the
 * per-seed averages. Every present condition must have the same seeds × folds as every other:
 * a table never silently averages different things.
 *
 * Pure functions only: building the runs (training or reading results.json files) is src/table.ts.
 */
import { CONDITIONS, type Condition, type TrainConfig } from "../config/types.js";
import type { DatasetName, Task } from "../data/types.js";
import { ConfigError } from "../errors.js";
import { RULE_SUMMARY } from "../eval/selection.js";
import { SELECTION_RULES, type Metrics, type Selections, type SelectionRule } from "../eval/types.js";

/** One finished run, as a table needs it. */
export interface TableRun {
  condition: Condition;
  seed: number;
  /** IEMOCAP leave-one-session-out fold; null for MOSI/MOSEI. */
  fold: number | null;
  config: TrainConfig;
  selections: Selections;
  /** The results.json it was read from or written to; null if none. */
  resultsPath: string | null;
}

/** A summary over seeds of one metric. Values are fractions in [0, 1], as in results.json. */
export interface Stat {
  mean: number;
  /** Sample standard deviation (n − 1) over seeds; null with one seed. */
  std: number | null;
  /** One value per seed (each the mean over folds), in `Table.seeds` order. */
  values: number[];
}

export type Column = Condition | "Avg";

/** The paper's column order (spec §3). */
export const TABLE_COLUMNS: readonly Column[] = ["a", "t", "v", "av", "at", "tv", "Avg", "atv"];
const MISSING: readonly Condition[] = ["a", "t", "v", "av", "at", "tv"];

export interface TableSection {
  rule: SelectionRule;
  /** RULE_SUMMARY[rule]: the sentence printed with the table. */
  selection: string;
  /** The two table metrics per column present; Avg only when all six missing conditions are. */
  cells: Partial<Record<Column, [Stat, Stat]>>;
}

export interface Table {
  dataset: DatasetName;
  task: Task;
  /** ["Acc-2", "F1"] (regression) or ["WA", "UA"] (classification). */
  metrics: [string, string];
  /** Conditions present, in the paper's order. */
  conditions: Condition[];
  seeds: number[];
  /** IEMOCAP folds averaged in every cell; null when the runs have none. */
  folds: number[] | null;
  /** One per selection rule, in SELECTION_RULES order. */
  sections: TableSection[];
  runs: TableRun[];
  /** Settings the runs disagree on (other than condition, seed and output folder), one line each. */
  notes: string[];
}

export type TableFormat = "md" | "csv" | "json";
export const TABLE_FORMATS: readonly TableFormat[] = ["md", "csv", "json"];

/** The two numbers of a cell: Acc-2/F1 (regression) or WA/UA (classification). */
function pair(m: Metrics): [number, number] {
  return m.kind === "regression" ? [m.acc2, m.f1] : [m.wa, m.ua];
}

function describeRun(r: Pick<TableRun, "condition" | "seed" | "fold">): string {
  return `condition ${r.condition}, seed ${r.seed}` + (r.fold === null ? "" : `, fold ${r.fold}`);
}

/** Runs → the table (see the module comment). Inconsistent runs are a ConfigError saying which. */
export function aggregateTable(runs: readonly TableRun[]): Table {
  if (runs.length === 0) throw new ConfigError("no runs to build a table from");
  const dataset = runs[0].config.dataset;
  const kind = runs[0].selections.paper.test.kind;
  const seen = new Map<string, TableRun>();
  for (const r of runs) {
    if (r.config.dataset !== dataset) {
      throw new ConfigError(
        `runs of different datasets cannot share a table: ${dataset} and ${r.config.dataset}` +
          (r.resultsPath === null ? "" : ` (${r.resultsPath})`),
      );
    }
    if (r.selections.paper.test.kind !== kind) throw new ConfigError("runs mix regression and classification");
    if ((r.fold === null) !== (runs[0].fold === null)) {
      throw new ConfigError("runs mix fold runs and runs without a fold (IEMOCAP leave-one-session-out vs the label file's split)");
    }
    const key = `${r.condition}/${r.seed}/${r.fold}`;
    const twin = seen.get(key);
    if (twin !== undefined) {
      const where = [twin.resultsPath, r.resultsPath].filter((p) => p !== null).join(" and ");
      throw new ConfigError(`two runs of ${describeRun(r)}${where === "" ? "" : `: ${where}`}`);
    }
    seen.set(key, r);
  }
  const conditions = CONDITIONS_PAPER_ORDER.filter((c) => runs.some((r) => r.condition === c));
  const seeds = [...new Set(runs.map((r) => r.seed))].sort((a, b) => a - b);
  const folds = runs[0].fold === null ? null : [...new Set(runs.map((r) => r.fold as number))].sort((a, b) => a - b);
  const missing: string[] = [];
  for (const condition of conditions) {
    for (const seed of seeds) {
      for (const fold of folds ?? [null]) {
        if (!seen.has(`${condition}/${seed}/${fold}`)) missing.push(describeRun({ condition, seed, fold }));
      }
    }
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `every condition needs the same seeds${folds === null ? "" : " and folds"} (${seeds.join(", ")}` +
        `${folds === null ? "" : `; folds ${folds.join(", ")}`}); missing: ${missing.join("; ")}. ` +
        `Run them, or choose with --conditions/--seeds/--folds`,
    );
  }

  // value(rule, condition, seed) = the fold mean of the table pair.
  const value = (rule: SelectionRule, condition: Condition, seed: number): [number, number] => {
    const ps = (folds ?? [null]).map((fold) => pair(seen.get(`${condition}/${seed}/${fold}`)!.selections[rule].test));
    return [mean(ps.map((p) => p[0])), mean(ps.map((p) => p[1]))];
  };
  const sections: TableSection[] = SELECTION_RULES.map((rule) => {
    const cells: Partial<Record<Column, [Stat, Stat]>> = {};
    const perSeed = new Map<Condition, [number, number][]>();
    for (const c of conditions) {
      const vs = seeds.map((s) => value(rule, c, s));
      perSeed.set(c, vs);
      cells[c] = [stat(vs.map((v) => v[0])), stat(vs.map((v) => v[1]))];
    }
    if (MISSING.every((c) => perSeed.has(c))) {
      const avg = seeds.map((_, i) => MISSING.map((c) => perSeed.get(c)![i]));
      cells.Avg = [stat(avg.map((ps) => mean(ps.map((p) => p[0])))), stat(avg.map((ps) => mean(ps.map((p) => p[1]))))];
    }
    return { rule, selection: RULE_SUMMARY[rule], cells };
  });
  return {
    dataset,
    task: kind,
    metrics: kind === "regression" ? ["Acc-2", "F1"] : ["WA", "UA"],
    conditions,
    seeds,
    folds,
    sections,
    runs: [...runs],
    notes: configDifferences(runs),
  };
}

const CONDITIONS_PAPER_ORDER: readonly Condition[] = TABLE_COLUMNS.filter((c): c is Condition => c !== "Avg");
// Every condition has a column.
if (CONDITIONS_PAPER_ORDER.length !== CONDITIONS.length) throw new Error("table columns miss a condition");

/** The config keys runs may legitimately differ in. */
const PER_RUN_KEYS = new Set(["condition", "seed", "out"]);

function configDifferences(runs: readonly TableRun[]): string[] {
  const keys = Object.keys(runs[0].config) as (keyof TrainConfig)[];
  const notes: string[] = [];
  for (const k of keys) {
    if (PER_RUN_KEYS.has(k)) continue;
    const values = [...new Set(runs.map((r) => JSON.stringify(r.config[k])))];
    if (values.length > 1) notes.push(`the runs differ in ${k}: ${values.join(", ")}`);
  }
  return notes;
}

/** Mean and sample standard deviation (null for one value). */
export function stat(values: number[]): Stat {
  const m = mean(values);
  if (values.length < 2) return { mean: m, std: null, values };
  const ss = values.reduce((s, x) => s + (x - m) ** 2, 0);
  return { mean: m, std: Math.sqrt(ss / (values.length - 1)), values };
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

// ---------------------------------------------------------------------------------------------
// Formats

export function formatTable(table: Table, format: TableFormat): string {
  switch (format) {
    case "md":
      return formatTableMarkdown(table);
    case "csv":
      return formatTableCsv(table);
    case "json":
      return JSON.stringify(tableJson(table), null, 2);
    default:
      throw new ConfigError(`unknown table format '${String(format)}'; expected ${TABLE_FORMATS.join(", ")}`);
  }
}

/** `62.50/57.63`, or with seeds `62.50±0.31/57.63±0.40`; `-` where the column has no runs. */
function mdCell(cell: [Stat, Stat] | undefined): string {
  if (cell === undefined) return "-";
  return cell.map((s) => pct(s.mean) + (s.std === null ? "" : `±${pct(s.std)}`)).join("/");
}

/** What every table of this set shares: the metric, the seeds, the folds, and any disagreement. */
function preamble(t: Table): string[] {
  const lines = [
    `Test ${t.metrics.join("/")} (%); columns name the available modalities; ` +
      "Avg = mean of the six missing-modality conditions (atv excluded).",
  ];
  lines.push(
    t.seeds.length === 1
      ? `One run per cell (seed ${t.seeds[0]}).`
      : `Each cell: mean ± sample std over ${t.seeds.length} seeds (${t.seeds.join(", ")}).`,
  );
  if (t.folds !== null) {
    lines.push(`Each run: the mean over the IEMOCAP leave-one-session-out folds ${t.folds.join(", ")}.`);
  }
  if (t.task === "classification") {
    // IEMOCAP has no validation split of its own: say what the validation rule selected on.
    const fractions = [...new Set(t.runs.map((r) => r.config.valFraction ?? 0))];
    if (fractions.length === 1) {
      const f = fractions[0];
      lines.push(
        f > 0
          ? `Validation split: ${+(100 * f).toFixed(2)}% of each session's training dialogues of each run, held out of ` +
              "training (drawn per seed and fold); the validation rule selects on it."
          : "No validation split (valFraction 0): the validation rule takes the last epoch.",
      );
    }
  }
  for (const n of t.notes) lines.push(`Note: ${n}.`);
  return lines;
}

/** One Markdown table per selection rule, each under a heading that states the rule. */
export function formatTableMarkdown(t: Table): string {
  const out = [`# DSSR on ${t.dataset}`, "", ...preamble(t)];
  for (const s of t.sections) {
    out.push(
      "",
      `## Selection: ${s.selection}`,
      "",
      `| ${TABLE_COLUMNS.join(" | ")} |`,
      `|${"---|".repeat(TABLE_COLUMNS.length)}`,
      `| ${TABLE_COLUMNS.map((c) => mdCell(s.cells[c])).join(" | ")} |`,
    );
  }
  return out.join("\n");
}

/**
 * The same tables as CSV, one row per (rule, metric, statistic): columns dataset, rule, selection
 * (the rule's sentence), metric, stat (mean, and std when there are several seeds), then the
 * paper's columns in %, 2 decimals; empty where a column has no runs.
 */
export function formatTableCsv(t: Table): string {
  const rows: string[][] = [["dataset", "rule", "selection", "metric", "stat", ...TABLE_COLUMNS]];
  const stats: ("mean" | "std")[] = t.seeds.length > 1 ? ["mean", "std"] : ["mean"];
  for (const s of t.sections) {
    for (const [i, metric] of t.metrics.entries()) {
      for (const which of stats) {
        const cells = TABLE_COLUMNS.map((c) => {
          const cell = s.cells[c];
          if (cell === undefined) return "";
          const v = which === "mean" ? cell[i].mean : cell[i].std;
          return v === null ? "" : pct(v);
        });
        rows.push([t.dataset, s.rule, s.selection, metric, which, ...cells]);
      }
    }
  }
  return rows.map((r) => r.map(csvField).join(",")).join("\n");
}

export const TABLE_JSON_FORMAT = "dssr-table/1";

/** The table as data: fractions in [0, 1] (as results.json), NaN as null, plus every run's selections. */
export function tableJson(t: Table): unknown {
  return {
    format: TABLE_JSON_FORMAT,
    dataset: t.dataset,
    task: t.task,
    metrics: t.metrics,
    conditions: t.conditions,
    seeds: t.seeds,
    folds: t.folds,
    notes: t.notes,
    tables: t.sections.map((s) => ({
      rule: s.rule,
      selection: s.selection,
      cells: Object.fromEntries(
        TABLE_COLUMNS.filter((c) => s.cells[c] !== undefined).map((c) => [
          c,
          { [t.metrics[0]]: statJson(s.cells[c]![0]), [t.metrics[1]]: statJson(s.cells[c]![1]) },
        ]),
      ),
    })),
    runs: t.runs.map((r) => ({
      condition: r.condition,
      seed: r.seed,
      fold: r.fold,
      resultsPath: r.resultsPath,
      selections: Object.fromEntries(
        SELECTION_RULES.map((rule) => [rule, { epoch: r.selections[rule].epoch, test: nanToNull(r.selections[rule].test) }]),
      ),
    })),
  };
}

/** A cell as JSON: NaN and infinities as null. */
export function statJson(s: Stat): { mean: number | null; std: number | null; values: (number | null)[] } {
  return { mean: finite(s.mean), std: s.std === null ? null : finite(s.std), values: s.values.map(finite) };
}

/** NaN and infinities as null (JSON has neither). */
export function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function nanToNull(m: Metrics): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === "number" ? finite(v) : v]));
}

export function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A rate in [0, 1] as a percentage with 2 decimals; `nan`/`inf` for non-finite values. */
export function pct(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return (x * 100).toFixed(2);
}
