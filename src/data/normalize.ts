/**
 * Feature normalisation (spec §1.2): per-dimension z-score per modality, fitted on the training
 * utterances only and applied to every split; "none" reproduces the release. The fitted stats
 * are plain numbers so a checkpoint can store them and predict() can apply them again.
 */
import { ConfigError } from "../errors.js";
import type { Normalize } from "../config/types.js";
import { MODALITIES, type Dataset, type PerModality, type Video } from "./types.js";

export interface ZscoreStats {
  method: "zscore";
  /** Per modality, per dimension: mean over the training utterances. */
  mean: PerModality<number[]>;
  /** Per modality, per dimension: population standard deviation; 1 where it is 0. */
  std: PerModality<number[]>;
}
export type NormStats = ZscoreStats | { method: "none" };

/** Fit z-score stats on the utterances of `trainIds` (default: the dataset's train split). */
export function fitZscore(dataset: Dataset, trainIds: readonly string[] = dataset.splits.train): ZscoreStats {
  const videos = trainIds.map((id) => {
    const v = dataset.videos.get(id);
    if (!v) throw new ConfigError(`training video '${id}' is not in the dataset (${dataset.sources.labels})`);
    return v;
  });
  const n = videos.reduce((s, v) => s + v.utteranceIds.length, 0);
  if (n === 0) throw new ConfigError(`z-score normalisation needs training utterances; the train split is empty (${dataset.sources.labels})`);
  const mean = {} as PerModality<number[]>;
  const std = {} as PerModality<number[]>;
  for (const m of MODALITIES) {
    const d = dataset.dims[m];
    const sum = new Float64Array(d);
    for (const v of videos) {
      const x = v.features[m];
      for (let i = 0; i < x.length; i++) sum[i % d] += x[i];
    }
    const mu = Array.from(sum, (s) => s / n);
    // Two passes (mean, then squared deviations): exact enough for openSMILE values in the hundreds.
    const sq = new Float64Array(d);
    for (const v of videos) {
      const x = v.features[m];
      for (let i = 0; i < x.length; i++) {
        const e = x[i] - mu[i % d];
        sq[i % d] += e * e;
      }
    }
    mean[m] = mu;
    std[m] = Array.from(sq, (s) => Math.sqrt(s / n) || 1);
  }
  return { method: "zscore", mean, std };
}

/** Apply stats to every video: a new Dataset (the input is not changed). */
export function applyNormalization(dataset: Dataset, stats: NormStats): Dataset {
  if (stats.method === "none") return dataset;
  const videos = new Map<string, Video>();
  for (const [id, v] of dataset.videos) {
    const features = {} as PerModality<Float32Array>;
    for (const m of MODALITIES) {
      const d = dataset.dims[m];
      const { mean, std } = { mean: stats.mean[m], std: stats.std[m] };
      if (mean.length !== d) {
        throw new ConfigError(`normalisation stats for '${m}' have ${mean.length} dims, the dataset has ${d}`);
      }
      features[m] = v.features[m].map((x, i) => (x - mean[i % d]) / std[i % d]);
    }
    videos.set(id, { ...v, features });
  }
  return { ...dataset, videos };
}

/** Fit on the training utterances (or `trainIds`, e.g. a fold's) and apply to all. */
export function normalizeDataset(
  dataset: Dataset,
  method: Normalize,
  trainIds?: readonly string[],
): { dataset: Dataset; stats: NormStats } {
  if (method === "none") return { dataset, stats: { method: "none" } };
  if (method !== "zscore") throw new ConfigError(`unknown normalisation '${method as string}'; expected zscore or none`);
  const stats = fitZscore(dataset, trainIds);
  return { dataset: applyNormalization(dataset, stats), stats };
}
