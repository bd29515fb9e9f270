import { test } from "node:test";
import assert from "node:assert/strict";
import { PAPER_PROTOCOL, selectEpochs } from "../../src/eval/selection.js";
import { cls, record, reg } from "./records.js";

// 8 epochs, stage 2 from epoch index 4. Test F1 peaks in stage 1 (index 1: must be ignored), then
// ties at indices 5 and 7 (the earlier, 5, wins). Validation F1 is best at index 6.
const history = [
  record(0, 4, reg(0.60, 0.58), reg(0.61, 0.59)),
  record(1, 4, reg(0.90, 0.95), reg(0.90, 0.99)),
  record(2, 4, reg(0.70, 0.69), reg(0.70, 0.70)),
  record(3, 4, reg(0.71, 0.70), reg(0.71, 0.71)),
  record(4, 4, reg(0.72, 0.71), reg(0.72, 0.72)),
  record(5, 4, reg(0.80, 0.79), reg(0.73, 0.73)),
  record(6, 4, reg(0.75, 0.74), reg(0.79, 0.78)),
  record(7, 4, reg(0.78, 0.79), reg(0.74, 0.74)),
];

test("regression: paper = best stage-2 test F1 (earliest on ties), validation, last", () => {
  const s = selectEpochs(history);
  assert.equal(s.paper.rule, "paper");
  assert.equal(s.paper.epoch, 5);
  assert.equal(s.paper.test, history[5].test);
  assert.equal(s.paper.val, history[5].val);
  assert.equal(
    s.paper.description,
    `${PAPER_PROTOCOL}: highest test F1 over stage-2 epochs 5-8, earliest on ties; epoch 6`,
  );
  assert.ok(s.paper.description.startsWith("paper protocol: best stage-2 epoch chosen on the test set (optimistic)"));

  assert.equal(s.validation.rule, "validation");
  assert.equal(s.validation.epoch, 6);
  assert.equal(
    s.validation.description,
    "validation selection: highest validation F1 over stage-2 epochs 5-8, earliest on ties; epoch 7",
  );

  assert.equal(s.last.rule, "last");
  assert.equal(s.last.epoch, 7);
  assert.equal(s.last.test, history[7].test);
  assert.equal(s.last.description, "last epoch: epoch 8, no selection");
});

test("classification selects on WA; with no validation metrics, validation falls back to the last epoch", () => {
  const h = [
    record(0, 2, cls(0.9, 0.9), null),
    record(1, 2, cls(0.5, 0.5), null),
    record(2, 2, cls(0.62, 0.70, 0.99), null), // best UA and F1, not best WA
    record(3, 2, cls(0.66, 0.60), null),
    record(4, 2, cls(0.64, 0.61), null),
  ];
  const s = selectEpochs(h);
  assert.equal(s.paper.epoch, 3);
  assert.equal(
    s.paper.description,
    `${PAPER_PROTOCOL}: highest test accuracy (WA) over stage-2 epochs 3-5, earliest on ties; epoch 4`,
  );
  assert.equal(s.validation.epoch, 4);
  assert.equal(
    s.validation.description,
    "validation selection: no validation metrics (no validation split), so the last epoch, epoch 5",
  );
  assert.equal(s.last.epoch, 4);
});

test("a NaN score never wins; a run without stage 2 is searched over all epochs and says so", () => {
  const h = [
    record(0, 10, reg(NaN, NaN), reg(NaN, NaN)),
    record(1, 10, reg(0.5, 0.4), reg(0.5, 0.6)),
    record(2, 10, reg(0.6, 0.45), reg(0.5, 0.5)),
  ];
  const s = selectEpochs(h);
  assert.equal(s.paper.epoch, 2);
  assert.equal(s.validation.epoch, 1);
  assert.equal(
    s.paper.description,
    `${PAPER_PROTOCOL}: highest test F1 over all epochs 1-3 (no stage-2 epoch ran), earliest on ties; epoch 3`,
  );
});

test("validation considers only epochs that have validation metrics", () => {
  const h = [
    record(0, 0, reg(0.5, 0.5), null),
    record(1, 0, reg(0.6, 0.6), reg(0.4, 0.4)),
    record(2, 0, reg(0.7, 0.7), null),
  ];
  const s = selectEpochs(h);
  assert.equal(s.validation.epoch, 1);
  assert.equal(
    s.validation.description,
    "validation selection: highest validation F1 over stage-2 epochs 1-3 that have validation metrics, earliest on ties; epoch 2",
  );
  assert.throws(() => selectEpochs([]), RangeError);
});
