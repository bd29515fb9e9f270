/** The resolved configuration of one training run (spec §2.5). Stored in every results JSON. */
import type { DatasetName, Modality } from "../data/types.js";

/** A missing-modality condition names the available modalities (spec §2.5). */
export const CONDITIONS = ["a", "t", "v", "at", "av", "tv", "atv"] as const;
export type Condition = (typeof CONDITIONS)[number];

export type Normalize = "zscore" | "none";

export interface FeatureNames {
  /** Folder names under `<dataDir>/features/`, e.g. `wav2vec-large-c-UTT`. */
  audio: string;
  text: string;
  video: string;
}

export interface TrainConfig {
  dataset: DatasetName;
  /** Folder holding `<DS>_features_raw_*.pkl` and `features/`. */
  dataDir: string;
  /** Label file path; default `<dataDir>/<DS>_features_raw_{2,4,6}way.pkl`. */
  labelFile: string;
  features: FeatureNames;
  condition: Condition;
  epochs: number;
  /** Epochs < stageEpoch are stage 1 (salient), the rest stage 2 (subtle). */
  stageEpoch: number;
  lr: number;
  weightDecay: number;
  /** Videos (or dialogues) per batch. */
  batchSize: number;
  /** Hidden size D (release flag --D_e). */
  hidden: number;
  heads: number;
  dropout: number;
  seed: number;
  normalize: Normalize;
  /**
   * IEMOCAP: the fraction of each run's training dialogues held out, per session and seeded per
   * (seed, fold), as its validation split (data/splits.ts `holdOutValidation`); 0 = none, so the
   * validation rule falls back to the last epoch. null for MOSI/MOSEI, whose label file has a
   * validation split of its own.
   */
  valFraction: number | null;
  /** Where results.json goes; null = do not write. */
  out: string | null;
}

export function availableModalities(condition: Condition): Modality[] {
  return [...condition] as Modality[];
}
