/**
 * Defaults, layered as MMSA layers them: the per-dataset preset of spec §2.5, then the settings
 * common to every dataset, then whatever the caller gives (see resolve.ts).
 */
import type { DatasetName } from "../data/types.js";
import type { Condition, FeatureNames, Normalize } from "./types.js";

export interface DatasetPreset {
  lr: number;
  /** Videos (dialogues) per batch. */
  batchSize: number;
  epochs: number;
  /** Epochs < stageEpoch are stage 1. */
  stageEpoch: number;
}

/** Spec §2.5: MOSI lr 2e-4, 32, 400/200; MOSEI 5e-5, 32, 100/50; IEMOCAP 2.5e-4, 16, 200/100. */
export const DATASET_PRESETS: Readonly<Record<DatasetName, DatasetPreset>> = Object.freeze({
  CMUMOSI: { lr: 2e-4, batchSize: 32, epochs: 400, stageEpoch: 200 },
  CMUMOSEI: { lr: 5e-5, batchSize: 32, epochs: 100, stageEpoch: 50 },
  IEMOCAPFour: { lr: 2.5e-4, batchSize: 16, epochs: 200, stageEpoch: 100 },
  // The spec gives IEMOCAP-4's values; the six-class file is the same dialogues, so they carry over.
  IEMOCAPSix: { lr: 2.5e-4, batchSize: 16, epochs: 200, stageEpoch: 100 },
});

export interface CommonDefaults {
  condition: Condition;
  dropout: number;
  /** D_e, the hidden size D. */
  hidden: number;
  heads: number;
  weightDecay: number;
  seed: number;
  normalize: Normalize;
}

/** Spec §2.5 (dropout 0.5, seed 66, Adam L2 decay 1e-5), §2 (D = 128, h = 4), §1.2 (z-score). */
export const COMMON_DEFAULTS: Readonly<CommonDefaults> = Object.freeze({
  condition: "atv",
  dropout: 0.5,
  hidden: 128,
  heads: 4,
  weightDecay: 1e-5,
  seed: 66,
  normalize: "zscore",
});

/** The GCNet/DSSR release's feature folders under `<dataDir>/features/` (spec §1.1). */
export const RELEASE_FEATURES: Readonly<FeatureNames> = Object.freeze({
  audio: "wav2vec-large-c-UTT",
  text: "deberta-large-4-UTT",
  video: "manet-UTT",
});
