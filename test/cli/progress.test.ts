/**
 * Progress (cli/progress.ts): the ETA arithmetic, the plain lines a pipe or CI log gets, and the
 * bar a terminal gets (drawn on a stand-in terminal stream).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createProgress, EpochEta } from "../../src/cli/progress.js";

describe("EpochEta", () => {
  it("prices each stage at its own mean, leaving out the first epoch (compiling) once a second ran", () => {
    const eta = new EpochEta({ stage1: 4, stage2: 6 });
    assert.equal(eta.estimate(), null);
    assert.equal(eta.text(), "ETA ?");
    eta.record(1, 30); // compiles: priced alone until a second stage-1 epoch ran
    assert.deepEqual(eta.estimate(), { seconds: 3 * 30 + 6 * 30, lowerBound: true });
    eta.record(1, 10);
    eta.record(1, 12);
    // Stage 1 now at (10 + 12) / 2 = 11 s; stage 2 unseen: priced like stage 1, a lower bound.
    assert.deepEqual(eta.estimate(), { seconds: 1 * 11 + 6 * 11, lowerBound: true });
    assert.equal(eta.text(), "ETA >1 min 17 s");
    eta.record(1, 11);
    eta.record(2, 50);
    eta.record(2, 20);
    eta.record(2, 24);
    assert.deepEqual(eta.estimate(), { seconds: 3 * 22, lowerBound: false });
    assert.equal(eta.text(), "ETA 1 min 06 s");
    eta.drop({ stage2: 2 });
    assert.equal(eta.remaining, 1);
    assert.deepEqual(eta.estimate(), { seconds: 22, lowerBound: false });
  });

  it("says hours for long runs", () => {
    const eta = new EpochEta({ stage1: 0, stage2: 400 });
    eta.record(2, 40);
    assert.equal(eta.text(), "ETA 4 h 26 min"); // 399 × 40 s = 15,960 s
  });

  it("divides each stage's time left by the epochs of it that run at once (dssr table --jobs)", () => {
    const eta = new EpochEta({ stage1: 11, stage2: 41 }, { stage1: 1, stage2: 4 });
    eta.record(1, 99); // compiling, left out once a second stage-1 epoch ran
    eta.record(1, 10);
    eta.record(2, 99);
    eta.record(2, 30);
    // 9 stage-1 epochs at 10 s, one at a time; 39 stage-2 epochs at 30 s, four at a time.
    assert.deepEqual(eta.estimate(), { seconds: 9 * 10 + (39 * 30) / 4, lowerBound: false });
  });
});

describe("createProgress", () => {
  it("not on a terminal: plain lines, each epoch line ending with the ETA, the last with done", () => {
    const out: string[] = [];
    const p = createProgress({ out: (l) => out.push(l) }, { stage1: 1, stage2: 2 });
    p.line("hello");
    p.epoch("epoch 1/3", 1, 5);
    p.epoch("epoch 2/3", 2, 9);
    p.epoch("epoch 3/3", 2, 7);
    p.stop();
    assert.deepEqual(out, ["hello", "epoch 1/3 | ETA >10.0 s", "epoch 2/3 | ETA 9.0 s", "epoch 3/3 | done"]);
  });

  it("on a terminal: a bar with the count and the ETA, the lines printed above it, nothing via io.out", () => {
    const out: string[] = [];
    let screen = "";
    const stream = { isTTY: true, columns: 100, write: (s: string) => ((screen += s), true) };
    const p = createProgress({ out: (l) => out.push(l) }, { stage1: 2, stage2: 2 }, { stream, label: "epochs of 1 run(s)" });
    p.line("config line");
    p.epoch("epoch 1/4", 1, 4);
    p.epoch("epoch 2/4", 1, 2);
    p.stop();
    assert.deepEqual(out, []);
    assert.match(screen, /config line\n/);
    assert.match(screen, /epoch 1\/4\n/);
    assert.match(screen, /epoch 2\/4\n/);
    // The bar's last frame before stop: 2 of 4 epochs, stage 2 priced at stage 1's 2 s (a lower bound).
    assert.match(screen, /2\/4 epochs of 1 run\(s\) \| ETA >4\.0 s \| elapsed /);
    assert.match(screen, /\u2588/); // the filled part of the bar
  });
});
