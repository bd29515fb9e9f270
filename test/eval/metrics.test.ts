import { test } from "node:test";
import assert from "node:assert/strict";
import {
  classificationMetrics,
  pearson,
  regressionMetrics,
  roundHalfEven,
} from "../../src/eval/metrics.js";

const close = (got: number, want: number, what: string, tol = 1e-12): void =>
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want}`);

test("regression metrics, hand-computed", () => {
  const pred = [2.0, -1.0, 0.5, 0.0, 0.3, 1.5];
  const label = [1.0, 0.5, 0.0, -2.0, -0.5, 3.6];
  const m = regressionMetrics(pred, label);
  // Non-zero labels: indices 0 1 3 4 5.  (ŷ>0) = 1 0 0 1 1, (y>0) = 1 1 0 0 1 → 3/5 right.
  assert.equal(m.nNonZero, 5);
  assert.equal(m.n, 6);
  close(m.acc2, 0.6, "acc2");
  // class 1: TP 2, FP 1 (i4), FN 1 (i1) → F1 4/6, support 3; class 0: TP 1, FP 1, FN 1 → 1/2,
  // support 2.  Weighted: (3·2/3 + 2·1/2) / 5 = 0.6.
  close(m.f1, 0.6, "f1");
  // |errors| on non-zero: 1, 1.5, 2, 0.8, 2.1 → 7.4 / 5; all adds |0.5 − 0| → 7.9 / 6.
  close(m.mae, 1.48, "mae");
  close(m.maeAll!, 7.9 / 6, "maeAll");
  // Non-zero: x̄ = 0.56, ȳ = 0.52, Σdxdy = 5.294, Σdx² = 5.772, Σdy² = 17.108.
  close(m.corr, 5.294 / Math.sqrt(5.772 * 17.108), "corr");
  // (ŷ≥0) = 1 0 1 1 1 1, (y≥0) = 1 1 1 0 0 1 → 3/6.  class 1: TP 3, FP 2, FN 1 → 6/9, support 4;
  // class 0: TP 0 → 0, support 2.  Weighted: 4·(2/3) / 6 = 4/9.
  close(m.acc2Has0, 0.5, "acc2Has0");
  close(m.f1Has0, 4 / 9, "f1Has0");
  // round-half-even classes: ŷ → 2 −1 0 0 0 2, y → 1 0 0 −2 −0 3 → 2/6 (Math.round gives 1/6).
  close(m.acc7, 1 / 3, "acc7");
});

test("regression weighted F1 gives 0 to a class never predicted, weighted by its support", () => {
  // (ŷ>0) = 1 1 1 1 1, (y>0) = 1 1 0 0 1: class 1 F1 = 6/8 with support 3, class 0 F1 = 0
  // with support 2 → 3·0.75 / 5 = 0.45 (sklearn: 0.45, with an UndefinedMetricWarning).
  const m = regressionMetrics([1, 1, 1, 1, 1], [1, 2, -1, -2, 3]);
  close(m.acc2, 0.6, "acc2");
  close(m.f1, 0.45, "f1");
});

test("regression metrics agree with sklearn/numpy on a random case", () => {
  // Generated once with scikit-learn 1.9.1, numpy 2.4.6:
  //   rng = np.random.default_rng(7)
  //   label = np.round(rng.uniform(-3, 3, 20) * 2) / 2; label[[3, 11]] = 0.0
  //   pred = np.round(rng.normal(0, 1.5, 20), 2); pred[5] = 0.0
  //   nz = label != 0
  //   acc2 = accuracy_score(label[nz] > 0, pred[nz] > 0)
  //   f1 = f1_score(label[nz] > 0, pred[nz] > 0, average='weighted')
  //   mae = np.mean(np.abs(label[nz] - pred[nz])); corr = np.corrcoef(label[nz], pred[nz])[0][1]
  //   maeAll, corrAll: the same over all; acc2Has0/f1Has0: label >= 0 vs pred >= 0
  //   acc7 = np.mean(np.round(np.clip(pred, -3, 3)) == np.round(np.clip(label, -3, 3)))
  // label[9] is -0.0: not counted as non-zero, and counted as ≥ 0, in both.
  const pred = [
    -2.76, -0.35, -1.9, 0.41, 0.24, 0.0, -3.78, -0.81, -0.07, 0.17, -2.3, -0.72, -1.47, -1.21, 1.59,
    -1.21, -0.05, 1.33, -0.88, -0.17,
  ];
  const label = [
    1.0, 2.5, 1.5, 0.0, -1.0, 2.0, -3.0, 2.0, 2.0, -0.0, -1.0, 0.0, -1.5, -0.5, 0.0, 0.5, 3.0, 2.0,
    0.5, 3.0,
  ];
  const m = regressionMetrics(Float64Array.from(pred), Float64Array.from(label));
  assert.equal(m.nNonZero, 16);
  close(m.acc2, 0.3125, "acc2");
  close(m.f1, 0.23734817813765183, "f1");
  close(m.mae, 1.933125, "mae");
  close(m.corr, 0.6316804046547826, "corr");
  close(m.maeAll!, 1.6909999999999996, "maeAll");
  close(m.corrAll!, 0.4480273547965141, "corrAll");
  close(m.acc2Has0, 0.45, "acc2Has0");
  close(m.f1Has0, 0.46240601503759393, "f1Has0");
  close(m.acc7, 0.15, "acc7");
});

test("roundHalfEven matches np.round", () => {
  const cases: [number, number][] = [
    [0.5, 0], [1.5, 2], [2.5, 2], [-0.5, 0], [-1.5, -2], [-2.5, -2], [1.4, 1], [-1.6, -2], [3, 3],
  ];
  for (const [x, want] of cases) assert.equal(roundHalfEven(x) + 0, want, `round(${x})`);
});

test("pearson of a constant is 0, not NaN; fewer than two points is NaN", () => {
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), 0);
  assert.equal(pearson([1, 2, 3], [4, 4, 4]), 0);
  close(pearson([1, 2, 3], [2, 4, 6]), 1, "perfect");
  close(pearson([1, 2, 3], [3, 2, 1]), -1, "anti");
  assert.ok(Number.isNaN(pearson([1], [2])));
  const m = regressionMetrics([0.3, 0.3, 0.3], [1, -1, 2]);
  assert.equal(m.corr, 0);
});

test("regression: an all-zero label set gives NaN rates on the non-zero subset", () => {
  const m = regressionMetrics([0.1, -0.2], [0, 0]);
  assert.equal(m.nNonZero, 0);
  assert.ok(Number.isNaN(m.acc2) && Number.isNaN(m.f1) && Number.isNaN(m.mae));
  close(m.acc2Has0, 0.5, "acc2Has0");
  assert.throws(() => regressionMetrics([], []), RangeError);
  assert.throws(() => regressionMetrics([1, 2], [1]), RangeError);
});

test("classification metrics, hand-computed, from class ids and from logits", () => {
  const label = [0, 0, 0, 1, 1, 2];
  const pred = [0, 0, 1, 1, 2, 2];
  // WA 4/6.  Recall: 2/3, 1/2, 1/1 → UA 13/18.
  // F1: c0 TP 2, predicted 2, support 3 → 4/5; c1 TP 1, 2, 2 → 1/2; c2 TP 1, 2, 1 → 2/3.
  // Weighted: (3·4/5 + 2·1/2 + 1·2/3) / 6 = 61/90.
  const want = { kind: "classification", wa: 4 / 6, ua: 13 / 18, f1: 61 / 90, n: 6 };
  const fromIds = classificationMetrics(pred, label, 3);
  // Same predictions from logits; row 0 has a tie (0, 0), and the first maximum wins.
  const logits = [1, 1, 0, 2, 0, 0, 0, 3, 1, 0, 5, 4, 0, 1, 2, -1, -2, 0];
  const fromLogits = classificationMetrics(Float32Array.from(logits), label, 3);
  for (const m of [fromIds, fromLogits]) {
    assert.equal(m.kind, "classification");
    assert.equal(m.n, 6);
    close(m.wa, want.wa, "wa");
    close(m.ua, want.ua, "ua");
    close(m.f1, want.f1, "f1");
  }
});

test("classification UA averages over the classes in the labels only", () => {
  // Class 2 is predicted but never labelled: recall c0 1/2, c1 1 → UA 0.75 (sklearn's macro
  // recall would average in a 0 for class 2 and give 0.5).
  const m = classificationMetrics([0, 2, 1, 1], [0, 0, 1, 1], 3);
  close(m.ua, 0.75, "ua");
  close(m.wa, 0.75, "wa");
  // F1: c0 TP 1, predicted 1, support 2 → 2/3; c1 → 1; c2 support 0.  (2·2/3 + 2·1) / 4 = 5/6.
  close(m.f1, 5 / 6, "f1");
});

test("classification metrics agree with sklearn on a random case", () => {
  // Generated once with scikit-learn 1.9.1 (continuing the generator of the regression case):
  //   y = rng.integers(0, 4, 24); logits = np.round(rng.normal(0, 1, (24, 4)), 2)
  //   logits[:, 3] -= 5; p = logits.argmax(1)      # class 3 is labelled but never predicted
  //   accuracy_score(y, p), recall_score(y, p, average='macro'), f1_score(y, p, average='weighted')
  const y = [3, 3, 0, 2, 3, 3, 2, 2, 0, 2, 1, 0, 0, 2, 2, 2, 2, 3, 2, 1, 2, 2, 0, 0];
  const logits = [
    0.07, 0.58, -0.19, -4.32, -0.07, 0.67, 1.44, -5.68, 0.2, -0.46, 0.13, -6.1899999999999995,
    -0.58, -0.2, 0.9, -3.85, -1.32, -0.79, 0.65, -6.99, -0.46, -0.1, 1.26, -4.3100000000000005,
    -0.33, -0.37, -0.25, -3.48, -0.43, -0.3, 0.35, -5.12, -0.2, -1.11, -0.01, -5.44, 1.17, 0.65,
    -0.02, -4.33, -0.34, 1.05, -0.01, -4.42, -1.29, 0.35, -1.69, -7.04, -0.3, -0.9, 0.16, -2.76,
    -0.83, -0.62, 0.21, -4.51, -0.18, -0.21, 0.7, -4.48, -1.03, -0.08, 0.04, -6.05, 0.26, -0.86,
    0.97, -4.81, 0.09, -0.59, -0.12, -7.0, -1.13, 0.36, -2.13, -4.15, -1.75, 0.76, -0.85, -4.22,
    0.13, -1.54, 1.25, -3.56, -0.07, -0.27, -0.16, -5.98, 1.1, -0.54, -0.05, -5.79, -0.63, -1.28,
    1.26, -5.15,
  ];
  const m = classificationMetrics(logits, y, 4);
  close(m.wa, 0.5, "wa");
  close(m.ua, 0.5151515151515151, "ua");
  close(m.f1, 0.4318614718614719, "f1");
});

test("classification input checks", () => {
  assert.throws(() => classificationMetrics([0, 1], [0, 1, 1], 2), RangeError);
  assert.throws(() => classificationMetrics([0, 3], [0, 1], 3), RangeError);
  assert.throws(() => classificationMetrics([0, 1], [0, 1.5], 3), RangeError);
  assert.throws(() => classificationMetrics([0], [0], 1), RangeError);
});
