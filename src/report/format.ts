/**
 * Text for people: the per-epoch progress line, the results block printed at the end of a run, and
 * the Markdown table of the seven conditions laid out as the paper's Table 1 (spec §3).
 * Rates are printed as percentages; epochs are printed 1-based (records store 0-based indices).
 * Non-finite numbers print as `nan`, `inf` or `-inf`, never as a made-up value.
 */
import type { Condition, TrainConfig } from "../config/types.js";
import { RULE_SUMMARY } from "../eval/selection.js";
import type { EpochRecord, Metrics, Selection, Selections, SelectionRule } from "../eval/types.js";
import { SELECTION_RULES } from "../eval/types.js";

export interface EpochLineOptions {
  /** Total epochs of the run, printed after the slash and used to pad the epoch number. */
  epochs: number;
}

/**
 * One line per epoch, e.g.
 * `epoch  12/400 stage 1  loss 1.234 (task 0.80 dcl 0.41)  test acc2 71.2 f1 70.8 mae 1.02
 * corr 0.55 | val … | 3.1s` (one line).
 * The loss parts shown are the task loss and whichever of DCL (stage 1) and REC (stage 2) is set;
 * rates have 1 decimal here (a glance while training; the results block has 2).
 */
export function formatEpochLine(record: EpochRecord, opts: EpochLineOptions): string {
  const total = String(opts.epochs);
  const epoch = String(record.epoch + 1).padStart(total.length);
  const l = record.trainLoss;
  const parts = [`task ${num(l.task, 2)}`];
  if (l.dcl !== null) parts.push(`dcl ${num(l.dcl, 2)}`);
  if (l.rec !== null) parts.push(`rec ${num(l.rec, 2)}`);
  let line =
    `epoch ${epoch}/${total} stage ${record.stage}  loss ${num(l.total, 3)} (${parts.join(" ")})` +
    `  test ${shortMetrics(record.test)}`;
  if (record.val !== null) line += ` | val ${shortMetrics(record.val)}`;
  return `${line} | ${num(record.seconds, 1)}s`;
}

function shortMetrics(m: Metrics): string {
  return m.kind === "regression"
    ? `acc2 ${pct(m.acc2, 1)} f1 ${pct(m.f1, 1)} mae ${num(m.mae, 2)} corr ${num(m.corr, 2)}`
    : `wa ${pct(m.wa, 1)} ua ${pct(m.ua, 1)} f1 ${pct(m.f1, 1)}`;
}

/**
 * The block printed when a run ends: a header naming the run, one aligned row per selection rule
 * with the test metrics of the selected epoch (Acc-2, F1, MAE, Corr, Acc-7 for regression; WA, UA,
 * F1 for classification; rates in % with 2 decimals as in the paper), then each rule's description.
 */
export function formatResultsBlock(selections: Selections, config: TrainConfig): string {
  const kind = selections.paper.test.kind;
  const header =
    kind === "regression"
      ? ["rule", "epoch", "Acc-2", "F1", "MAE", "Corr", "Acc-7"]
      : ["rule", "epoch", "WA", "UA", "F1"];
  const rows = SELECTION_RULES.map((rule) => {
    const s: Selection = selections[rule];
    const m = s.test;
    if (m.kind !== kind) {
      throw new RangeError("formatResultsBlock: selections mix regression and classification");
    }
    const cells =
      m.kind === "regression"
        ? [pct(m.acc2), pct(m.f1), num(m.mae, 3), num(m.corr, 3), pct(m.acc7)]
        : [pct(m.wa), pct(m.ua), pct(m.f1)];
    return [rule, String(s.epoch + 1), ...cells];
  });
  const title =
    `DSSR results: ${config.dataset}, condition ${config.condition}, seed ${config.seed}, ` +
    `${config.epochs} epochs (stage 2 from epoch ${config.stageEpoch + 1}); test set, rates in %`;
  const notes = SELECTION_RULES.map((rule) => `  ${rule}: ${selections[rule].description}`);
  return [title, ...alignColumns([header, ...rows]), ...notes].join("\n");
}

/** One cell of the condition table: a condition's test metrics under one selection rule. */
export interface ConditionRow {
  condition: Condition;
  rule: SelectionRule;
  test: Metrics;
}

/** The paper's column order (spec §3): the six missing conditions, their mean, then atv. */
const MISSING: readonly Condition[] = ["a", "t", "v", "av", "at", "tv"];

/**
 * A Markdown table with one column per condition, in the paper's layout: a, t, v, av, at, tv, Avg,
 * atv, where Avg is the mean of the six missing conditions (atv excluded; "-" unless all six are
 * there). Cells are Acc-2/F1 (regression) or WA/UA (classification) in %. The selection rule is
 * stated above the table. All rows must share one rule and one task; a condition may appear once
 * (average folds or seeds before calling).
 */
export function formatConditionTable(rows: readonly ConditionRow[]): string {
  if (rows.length === 0) throw new RangeError("formatConditionTable: no rows");
  const { rule } = rows[0];
  const kind = rows[0].test.kind;
  const byCondition = new Map<Condition, [number, number]>();
  for (const r of rows) {
    if (r.rule !== rule) {
      throw new RangeError(`formatConditionTable: rows mix rules ${rule} and ${r.rule}`);
    }
    if (r.test.kind !== kind) {
      throw new RangeError("formatConditionTable: rows mix regression and classification");
    }
    if (byCondition.has(r.condition)) {
      throw new RangeError(`formatConditionTable: condition ${r.condition} appears twice`);
    }
    const m = r.test;
    byCondition.set(r.condition, m.kind === "regression" ? [m.acc2, m.f1] : [m.wa, m.ua]);
  }
  const cell = (pair: [number, number] | undefined): string =>
    pair === undefined ? "-" : `${pct(pair[0])}/${pct(pair[1])}`;
  const missing = MISSING.map((c) => byCondition.get(c));
  let avg: [number, number] | undefined;
  if (missing.every((p) => p !== undefined)) {
    const ps = missing as [number, number][];
    avg = [mean(ps.map((p) => p[0])), mean(ps.map((p) => p[1]))];
  }
  const cells = [...missing.map(cell), cell(avg), cell(byCondition.get("atv"))];
  const what = kind === "regression" ? "Acc-2/F1" : "WA/UA";
  return [
    `Selection: ${RULE_SUMMARY[rule]}.`,
    `Test ${what} (%); Avg = mean of the six missing-modality conditions (atv excluded).`,
    "",
    `| ${[...MISSING, "Avg", "atv"].join(" | ")} |`,
    `|${"---|".repeat(8)}`,
    `| ${cells.join(" | ")} |`,
  ].join("\n");
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** A rate in [0, 1] as a percentage, with 2 decimals unless said. */
function pct(x: number, decimals = 2): string {
  return num(x * 100, decimals);
}

function num(x: number, decimals: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return x.toFixed(decimals);
}

/** Rows of cells → lines: first column left-aligned, the others right-aligned, 2 spaces apart. */
function alignColumns(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) =>
    r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ").trimEnd(),
  );
}
