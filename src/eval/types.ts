/** Metric records and the per-epoch history written to the results JSON (spec §2.5–§2.6). */

/**
 * MOSI/MOSEI metrics (spec §2.6). acc2/f1 on non-zero labels; acc2Has0 counts y ≥ 0 positive.
 * Rates (acc*, f1*) are fractions in [0, 1]; reports print percentages. `metrics.ts` says which
 * utterances each one counts.
 */
export interface RegressionMetrics {
  kind: "regression";
  acc2: number;
  f1: number;
  /** MAE and Pearson correlation on the non-zero labels, as acc2/f1 (spec §2.6, MoMKE release). */
  mae: number;
  corr: number;
  /**
   * MAE and Pearson correlation on all utterances (MMSA's convention). Always set by
   * `regressionMetrics`; optional only so that hand-built records elsewhere need not carry them.
   */
  maeAll?: number;
  corrAll?: number;
  acc2Has0: number;
  f1Has0: number;
  acc7: number;
  /** Utterances counted (all) and non-zero-label utterances used by acc2/f1. */
  n: number;
  nNonZero: number;
}

/** IEMOCAP metrics (spec §2.6): WA = accuracy, UA = macro recall, weighted F1; fractions in [0, 1]. */
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
  /**
   * 0-based epoch index, as the release's `range(epochs)`: stage 1 while epoch < stageEpoch.
   * Everything printed for people (progress lines, tables, descriptions) shows epoch + 1.
   */
  epoch: number;
  stage: 1 | 2;
  /** Mean over the epoch's training batches, weighted by valid utterances. */
  trainLoss: LossParts;
  val: Metrics | null;
  test: Metrics;
  seconds: number;
}

/** The three selection rules, in the order every report lists them (spec §2.5). */
export const SELECTION_RULES = ["paper", "validation", "last"] as const;
export type SelectionRule = (typeof SELECTION_RULES)[number];

export interface Selection {
  rule: SelectionRule;
  /** A sentence that says how the epoch was picked, printed beside every table. */
  description: string;
  epoch: number;
  test: Metrics;
  val: Metrics | null;
}

/** One selection per rule, as `selectEpochs` returns them and the results JSON stores them. */
export type Selections = Record<SelectionRule, Selection>;
