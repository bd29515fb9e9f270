/**
 * Property (spec §2.3): under a condition, the raw features of the missing modalities are never
 * read, so replacing them by anything — other random values, NaN — changes no output.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { initEngine, np, tree, type Arr } from "../../src/engine.js";
import { CONDITIONS, availableModalities } from "../../src/config/types.js";
import { MODALITIES, type PerModality } from "../../src/data/types.js";
import { initParams } from "../../src/model/params.js";
import { mulberry32, gaussian } from "../../src/data/rng.js";
import { splitStage2, predictStage2, type StepConfig } from "../../src/train/step.js";

const B = 3;
const S = 8;
const dims = { a: 5, t: 7, v: 6 };
// One layer per stack keeps the test fast; the property does not depend on depth.
const shape = { dims, hidden: 16, heads: 4, nClasses: 1, depth: 1 };
const cfg: StepConfig = {
  task: "regression",
  nClasses: 1,
  heads: 4,
  dropout: 0,
  adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-5 },
};

function features(seed: number, fill?: number): PerModality<Float32Array> {
  const rng = mulberry32(seed);
  const out = {} as PerModality<Float32Array>;
  for (const m of MODALITIES) out[m] = Float32Array.from({ length: B * S * dims[m] }, () => fill ?? gaussian(rng));
  return out;
}

const umask = Float32Array.from({ length: B * S }, (_, i) => (i % S < [8, 5, 3][Math.floor(i / S)] ? 1 : 0));

function run(condition: (typeof CONDITIONS)[number], x: PerModality<Float32Array>) {
  const available = availableModalities(condition);
  const params = initParams(shape, 7);
  const [t, fr] = splitStage2(params, available);
  const arr = (a: Float32Array, s: number[]) => np.array(a, { dtype: np.float32 }).reshape(s);
  const out = predictStage2(
    cfg,
    available,
    t,
    fr,
    { a: arr(x.a, [B, S, dims.a]), t: arr(x.t, [B, S, dims.t]), v: arr(x.v, [B, S, dims.v]) },
    arr(umask, [B, S]),
  );
  const read = (a: Arr) => Array.from(a.dataSync() as Float32Array);
  return {
    prediction: read(out.prediction),
    alpha: read(out.alpha),
    unimodal: MODALITIES.map((m) => read(out.unimodal[m])),
    headWeights: MODALITIES.map((m) => read(out.headWeights[m])),
  };
}

before(async () => {
  await initEngine();
});

for (const condition of CONDITIONS) {
  test(`condition ${condition}: missing modalities' raw features change no output`, () => {
    const base = features(1);
    const reference = run(condition, base);
    assert.ok(reference.prediction.every(Number.isFinite));
    const missing = MODALITIES.filter((m) => !availableModalities(condition).includes(m));
    for (const replacement of [features(2), features(3, Number.NaN)]) {
      const x = { ...base };
      for (const m of missing) x[m] = replacement[m];
      assert.deepEqual(run(condition, x), reference);
    }
    // …while an available modality's features do change the prediction.
    const changed = { ...base, [availableModalities(condition)[0]]: features(4)[availableModalities(condition)[0]] };
    assert.notDeepEqual(run(condition, changed).prediction, reference.prediction);
  });
}

test("MHDW head weights w̄ sum to 1 over heads at valid positions and are 0 at padding", () => {
  const out = run("at", features(5));
  for (const w of out.headWeights) {
    for (let i = 0; i < B * S; i++) {
      const sum = w.slice(i * 4, i * 4 + 4).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - umask[i]) < 1e-5, `position ${i}: Σw̄ = ${sum}`);
    }
  }
  void tree;
});
