/**
 * Training checkpoints in process: a run stopped after any epoch (an exception from the epoch hook
 * stands in for a crash) and resumed from its checkpoints reaches exactly the uninterrupted run's
 * history and weights, in stage 1, at the stage switch and in stage 2, with stage 1 shared by two
 * conditions. The kill -9 version through the command line is in resume-cli.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  checkpointDir, CHECKPOINT_JSON, readCheckpointJson, readTrainingState,
} from "../../src/checkpoint/training-state.js";
import { resolveTrainConfig } from "../../src/config/resolve.js";
import type { TrainConfig } from "../../src/config/types.js";
import { SYNTHETIC_FEATURES, writeSyntheticDataset } from "../../src/data/synthetic.js";
import { tree, type Arr } from "../../src/engine.js";
import { CheckpointError } from "../../src/errors.js";
import type { EpochRecord } from "../../src/eval/types.js";
import { stateDictEntries, type DssrParams } from "../../src/model/params.js";
import { trainConditions, type TrainResult } from "../../src/train/loop.js";
import { tempDir } from "../cli/helpers.js";

class Crash extends Error {}

/** Everything an epoch record says except its wall time. */
function strip(h: readonly EpochRecord[]) {
  return h.map(({ seconds: _s, ...r }) => r);
}

function weights(p: DssrParams): Map<string, Float32Array> {
  return new Map(stateDictEntries(p).map(([n, a]: [string, Arr]) => [n, (a.ref.dataSync() as Float32Array).slice()]));
}

function assertSameRun(got: TrainResult, want: { history: EpochRecord[]; weights: Map<string, Float32Array> }, what: string) {
  assert.deepEqual(strip(got.history), strip(want.history), `${what}: history`);
  const w = weights(got.params);
  for (const [name, ref] of want.weights) {
    assert.deepEqual(Buffer.from(w.get(name)!.buffer), Buffer.from(ref.buffer), `${what}: ${name} differs`);
  }
}

describe("checkpoints and resume (in process)", () => {
  let root: string;
  let config: TrainConfig;
  const conditions = ["at", "v"] as const;
  let reference: { history: EpochRecord[]; weights: Map<string, Float32Array> }[];

  before(async () => {
    root = tempDir("resume");
    writeSyntheticDataset(join(root, "data"), { seed: 5, videos: 14, dims: { a: 5, t: 7, v: 6 } });
    config = resolveTrainConfig({
      dataset: "CMUMOSI", dataDir: join(root, "data"), features: SYNTHETIC_FEATURES, condition: "at",
      epochs: 4, stageEpoch: 2, batchSize: 4, hidden: 16, seed: 9, out: null,
    });
    const results = await trainConditions(config, conditions, {}, undefined, { checkpoints: { dir: join(root, "ref") } });
    reference = results.map((r) => ({ history: r.history, weights: weights(r.params) }));
    for (const r of results) tree.dispose(r.params as never);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("writes one checkpoint per stream with the epoch count, Adam steps, DCL count and RNG state", () => {
    const s1 = readCheckpointJson(join(checkpointDir(join(root, "ref"), 1, null), CHECKPOINT_JSON));
    assert.equal(s1.stage, 1);
    assert.equal(s1.epochsDone, 2);
    assert.equal(s1.stageSwitch, true);
    // 14 videos: 60 % train = 8 videos = 2 batches of 4 per epoch, 2 epochs.
    assert.deepEqual(s1.adamSteps, { salient: 4, heads: 4 });
    assert.equal(s1.dcl.batchCount, 4);
    assert.deepEqual({ seed: s1.rng.seed, nextEpoch: s1.rng.nextEpoch }, { seed: 9, nextEpoch: 2 });
    const s2 = readCheckpointJson(join(checkpointDir(join(root, "ref"), 2, "at"), CHECKPOINT_JSON));
    assert.equal(s2.epochsDone, 4);
    assert.equal(s2.condition, "at");
    // Stage 2 steps heads (continuing stage 1's count), the subtle core and the available GM_spe.
    assert.deepEqual(s2.adamSteps, { salient: 4, heads: 8, subtle: 4, "generation.a": 4, "generation.t": 4 });
    assert.equal(s2.history.length, 4);
  });

  for (const stopAfter of [1, 2, 3]) {
    it(`a run stopped after epoch ${stopAfter} and resumed equals the uninterrupted run, bit for bit`, async () => {
      const dir = join(root, `stop-${stopAfter}`);
      let seen = 0;
      await assert.rejects(
        trainConditions(config, conditions, {
          onEpoch: () => {
            if (++seen === stopAfter) throw new Crash();
          },
        }, undefined, { checkpoints: { dir } }),
        Crash,
      );
      const resumedEpochs: number[] = [];
      const results = await trainConditions(config, conditions, { onEpoch: (r) => resumedEpochs.push(r.epoch) }, undefined, {
        checkpoints: { dir, resume: true },
      });
      // Only the epochs not yet done were trained again: stage 1 from where it stopped (if it
      // had), then both conditions' stage 2.
      const stage1Left = [0, 1].filter((e) => e >= stopAfter);
      const firstCondition = stopAfter <= 2 ? [2, 3] : [3];
      assert.deepEqual(resumedEpochs, [...stage1Left, ...firstCondition, 2, 3]);
      results.forEach((r, i) => assertSameRun(r, reference[i], `${conditions[i]} after a stop at epoch ${stopAfter}`));
      for (const r of results) tree.dispose(r.params as never);
    });
  }

  it("refuses a checkpoint from another configuration, naming it", async () => {
    const other = { ...config, lr: config.lr * 2 };
    await assert.rejects(
      trainConditions(other, ["at"], {}, undefined, { checkpoints: { dir: join(root, "ref"), resume: true } }),
      (e: Error) =>
        e instanceof CheckpointError &&
        e.message.includes(join(root, "ref", "stage1", CHECKPOINT_JSON)) &&
        e.message.includes("another configuration") &&
        e.message.includes("lr"),
    );
  });

  it("refuses a corrupt state file, naming it", () => {
    const dir = checkpointDir(join(root, "ref"), 2, "v");
    const json = readCheckpointJson(join(dir, CHECKPOINT_JSON));
    const statePath = join(dir, json.state.file);
    const bytes = readFileSync(statePath);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(statePath, bytes);
    assert.throws(
      () => readTrainingState(dir, { config: { ...config, condition: "v" }, fold: null, shape: json.shape, stage: 2, condition: "v" }),
      (e: Error) => e instanceof CheckpointError && e.message.includes(statePath) && e.message.includes("corrupt"),
    );
  });
});
