/**
 * The field's metrics (spec §2.6) on plain arrays: no tensors, no padding. The caller passes only
 * valid utterances (umask = 1), predictions and labels in the same order.
 *
 * Regression (MOSI/MOSEI), following MMSA's `utils/metricsTop.py` names:
 * - `acc2`, `f1` (MMSA `Non0_acc_2`, `Non0_F1_score`): (ŷ > 0) vs (y > 0) over utterances with
 *   y ≠ 0; F1 is sklearn's `f1_score(average='weighted')`.
 * - `mae`, `corr`: over the same y ≠ 0 utterances. This is the spec's reading of §2.6 ("on test
 *   utterances with label ≠ 0: Acc-2 …, weighted F1 …, MAE and Pearson correlation") and what the
 *   MoMKE release does (`train_or_eval_model`: `mae = np.mean(np.absolute(labels[non_zeros] -
 *   preds[non_zeros]))`, `corr = np.corrcoef(labels[non_zeros], preds[non_zeros])`), which DSSR
 *   builds on and compares against; GCNet's release reports no MAE or Corr at all.
 * - `maeAll`, `corrAll`: over ALL utterances, MMSA's convention (its `MAE`, `Corr`), for tables
 *   that compare with MMSA-style numbers.
 * - `acc2Has0`, `f1Has0` (MMSA `Has0_acc_2`, `Has0_F1_score`): (ŷ ≥ 0) vs (y ≥ 0) over all.
 * - `acc7` (MMSA `Mult_acc_7`): round(clip(ŷ, -3, 3)) vs round(clip(y, -3, 3)) over all, rounding
 *   half to even as numpy's `np.round` does (MOSI labels such as 0.5 or -2.5 are common, so
 *   JavaScript's `Math.round` would give different classes).
 *
 * Classification (IEMOCAP): WA = accuracy, UA = mean recall over the classes present in the
 * labels, F1 = sklearn's weighted F1.
 *
 * Rates are fractions in [0, 1]; reports print them as percentages. A rate over an empty set
 * (no y ≠ 0 utterance) is NaN, as numpy's mean of an empty array is.
 */
import type { ClassificationMetrics, RegressionMetrics } from "./types.js";

export function regressionMetrics(
  pred: ArrayLike<number>,
  label: ArrayLike<number>,
): RegressionMetrics {
  checkLengths(pred.length, label.length);
  const n = label.length;
  if (n === 0) throw new RangeError("regressionMetrics: no utterances");

  const nonZero: number[] = [];
  for (let i = 0; i < n; i++) if (label[i] !== 0) nonZero.push(i);
  const predNZ = nonZero.map((i) => pred[i]);
  const labelNZ = nonZero.map((i) => label[i]);

  const pos = (x: number): number => (x > 0 ? 1 : 0);
  const nonNeg = (x: number): number => (x >= 0 ? 1 : 0);
  const binPredNZ = predNZ.map(pos);
  const binLabelNZ = labelNZ.map(pos);
  const binPred = Array.from(pred, nonNeg);
  const binLabel = Array.from(label, nonNeg);

  const class7 = (x: number): number => roundHalfEven(Math.min(3, Math.max(-3, x)));

  return {
    kind: "regression",
    acc2: accuracy(binPredNZ, binLabelNZ),
    f1: weightedF1(binPredNZ, binLabelNZ),
    mae: meanAbsoluteError(predNZ, labelNZ),
    corr: pearson(predNZ, labelNZ),
    maeAll: meanAbsoluteError(pred, label),
    corrAll: pearson(pred, label),
    acc2Has0: accuracy(binPred, binLabel),
    f1Has0: weightedF1(binPred, binLabel),
    acc7: accuracy(Array.from(pred, class7), Array.from(label, class7)),
    n,
    nNonZero: nonZero.length,
  };
}

/**
 * `logitsOrPred` is either row-major logits [n × nClasses] (the class is the first maximum, as
 * `np.argmax`) or n predicted class ids; the length tells which. Labels are class ids in
 * [0, nClasses).
 *
 * UA averages recall over the classes that occur in `label`. sklearn's
 * `recall_score(average='macro')`, which the MoMKE release calls, also averages in a recall of 0
 * for a class that is only predicted; the two agree whenever every class occurs in the labels, as
 * in every IEMOCAP session.
 */
export function classificationMetrics(
  logitsOrPred: ArrayLike<number>,
  label: ArrayLike<number>,
  nClasses: number,
): ClassificationMetrics {
  if (!Number.isInteger(nClasses) || nClasses < 2) {
    throw new RangeError(`classificationMetrics: nClasses must be an integer ≥ 2, got ${nClasses}`);
  }
  const n = label.length;
  if (n === 0) throw new RangeError("classificationMetrics: no utterances");
  let pred: number[];
  if (logitsOrPred.length === n * nClasses) pred = argmaxRows(logitsOrPred, nClasses);
  else if (logitsOrPred.length === n) pred = Array.from(logitsOrPred);
  else {
    throw new RangeError(
      `classificationMetrics: expected ${n} class ids or ${n}×${nClasses} logits, ` +
        `got ${logitsOrPred.length} values`,
    );
  }
  const isClass = (c: number): boolean => Number.isInteger(c) && c >= 0 && c < nClasses;
  for (let i = 0; i < n; i++) {
    if (!isClass(label[i])) throw new RangeError(`classificationMetrics: label ${label[i]} at ${i}`);
    if (!isClass(pred[i])) {
      throw new RangeError(`classificationMetrics: prediction ${pred[i]} at ${i}`);
    }
  }
  const labels = Array.from(label);

  const counts = confusionCounts(pred, labels);
  let recallSum = 0;
  let present = 0;
  for (const { tp, support } of counts.values()) {
    if (support === 0) continue;
    recallSum += tp / support;
    present++;
  }
  return {
    kind: "classification",
    wa: accuracy(pred, labels),
    ua: recallSum / present,
    f1: weightedF1(pred, labels),
    n,
  };
}

/** numpy's `np.round` for one value: halves go to the even neighbour (0.5→0, 1.5→2, -2.5→-2). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round sends every half up; step back where that landed on an odd integer.
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Pearson correlation, computed in two passes. A constant prediction (or label) makes it 0 over 0;
 * numpy returns NaN there, we return 0 (no linear relation can be read), so that a collapsed model
 * reads as uncorrelated in tables instead of as a missing number. Fewer than 2 points: NaN.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkLengths(x.length, y.length);
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return 0;
  return sxy / Math.sqrt(sxx * syy);
}

function meanAbsoluteError(pred: ArrayLike<number>, label: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < label.length; i++) s += Math.abs(pred[i] - label[i]);
  return s / label.length;
}

function accuracy(pred: readonly number[], label: readonly number[]): number {
  let hit = 0;
  for (let i = 0; i < label.length; i++) if (pred[i] === label[i]) hit++;
  return hit / label.length;
}

interface ClassCounts {
  tp: number;
  /** Predicted as this class (TP + FP). */
  predicted: number;
  /** Labelled as this class (TP + FN). */
  support: number;
}

/** Per class occurring in either array (sklearn's label set), its counts. */
function confusionCounts(
  pred: readonly number[],
  label: readonly number[],
): Map<number, ClassCounts> {
  const counts = new Map<number, ClassCounts>();
  const get = (c: number): ClassCounts => {
    let k = counts.get(c);
    if (!k) counts.set(c, (k = { tp: 0, predicted: 0, support: 0 }));
    return k;
  };
  for (let i = 0; i < label.length; i++) {
    get(pred[i]).predicted++;
    get(label[i]).support++;
    if (pred[i] === label[i]) get(label[i]).tp++;
  }
  return counts;
}

/**
 * sklearn's `f1_score(average='weighted')`: per class F1 = 2·TP / (2·TP + FP + FN), taken as 0
 * where that is 0/0 or where the class is never predicted (sklearn's zero_division default), then
 * averaged with weights = support. A class only predicted has support 0 and so weight 0.
 */
function weightedF1(pred: readonly number[], label: readonly number[]): number {
  if (label.length === 0) return NaN;
  let s = 0;
  for (const { tp, predicted, support } of confusionCounts(pred, label).values()) {
    const denom = predicted + support; // 2·TP + FP + FN
    s += support * (denom === 0 ? 0 : (2 * tp) / denom);
  }
  return s / label.length;
}

function argmaxRows(logits: ArrayLike<number>, nClasses: number): number[] {
  const out: number[] = [];
  for (let row = 0; row < logits.length; row += nClasses) {
    let best = 0;
    for (let c = 1; c < nClasses; c++) if (logits[row + c] > logits[row + best]) best = c;
    out.push(best);
  }
  return out;
}

function checkLengths(a: number, b: number): void {
  if (a !== b) throw new RangeError(`metrics: ${a} predictions for ${b} labels`);
}
