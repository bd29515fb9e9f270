/** Metric records and the per-epoch history written to the results JSON (spec §2.5–§2.6). */

/** MOSI/MOSEI metrics (spec §2.6). acc2/f1 on non-zero labels; acc2Has0 counts y ≥ 0 positive. */
export interface RegressionMetrics {
  kind: "regression";
  acc2: number;
  f1: number;
  mae: number;
  corr: number;
  acc2Has0: number;
  f1Has0: number;
  acc7: number;
  /** Utterances counted (all) and non-zero-label utterances used by acc2/f1. */
  n: number;
  nNonZero: number;
}

/** IEMOCAP metrics (spec §2.6): WA = accuracy, UA = macro recall, weighted F1. */
export interface ClassificationMetrics {
  kind: "classification";
  wa: number;
  ua: number;
  f1: number;
  n: number;
}

export type Metrics = RegressionMetrics | ClassificationMetrics;

export interface LossParts {
  total: number;
  task: number;
  taskA: number;
  taskT: number;
  taskV: number;
  /** Stage 1 only: the unweighted DCL. */
  dcl: number | null;
  /** Stage 2 only: the unweighted REC. */
  rec: number | null;
}

export interface EpochRecord {
  epoch: number;
  stage: 1 | 2;
  /** Mean over the epoch's training batches, weighted by valid utterances. */
  trainLoss: LossParts;
  val: Metrics | null;
  test: Metrics;
  seconds: number;
}

export type SelectionRule = "paper" | "validation" | "last";

export interface Selection {
  rule: SelectionRule;
  /** A sentence that says how the epoch was picked, printed beside every table. */
  description: string;
  epoch: number;
  test: Metrics;
  val: Metrics | null;
}
