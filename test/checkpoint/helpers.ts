/** A tiny model (hidden 16, one layer per stack) and its config, for the checkpoint tests. */
import type { TrainConfig } from "../../src/config/types.js";
import type { NormStats } from "../../src/data/normalize.js";
import type { ModelShape } from "../../src/model/params.js";

export const TINY_DIMS = { a: 5, t: 7, v: 6 };

export function tinyShape(nClasses = 1): ModelShape {
  return { dims: { ...TINY_DIMS }, hidden: 16, heads: 4, nClasses, depth: 1 };
}

export function tinyConfig(over: Partial<TrainConfig> = {}): TrainConfig {
  return {
    dataset: "CMUMOSI",
    dataDir: "/nowhere",
    labelFile: "/nowhere/CMUMOSI_features_raw_2way.pkl",
    features: { audio: "synth-audio", text: "synth-text", video: "synth-video" },
    condition: "atv",
    epochs: 2,
    stageEpoch: 1,
    lr: 1e-3,
    weightDecay: 1e-5,
    batchSize: 4,
    hidden: 16,
    heads: 4,
    dropout: 0.5,
    seed: 7,
    normalize: "zscore",
    valFraction: null,
    out: null,
    ...over,
  };
}

/** Z-score stats with recognisable, non-trivial values. */
export function tinyNorm(): NormStats {
  const mk = (d: number, f: (i: number) => number) => Array.from({ length: d }, (_, i) => f(i));
  return {
    method: "zscore",
    mean: { a: mk(5, (i) => 0.1 * i - 0.3), t: mk(7, (i) => Math.sin(i)), v: mk(6, (i) => i / 3) },
    std: { a: mk(5, (i) => 1 + i), t: mk(7, (i) => 0.5 + i / 7), v: mk(6, () => 2) },
  };
}
