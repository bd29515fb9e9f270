/**
 * The data model shared by readers, dataset assembly, batching and the model (spec §1).
 * Plain typed arrays only: no tensors, so this layer also runs in a browser.
 */

/** Modalities, always in this order (spec: a = acoustic, t = textual, v = visual). */
export const MODALITIES = ["a", "t", "v"] as const;
export type Modality = (typeof MODALITIES)[number];
export type PerModality<T> = { a: T; t: T; v: T };

/** Dataset names as the release spells them. */
export type DatasetName = "CMUMOSI" | "CMUMOSEI" | "IEMOCAPFour" | "IEMOCAPSix";
export type Task = "regression" | "classification";

/** A parsed label file (spec §1.1). */
export type LabelFile = SentimentLabelFile | EmotionLabelFile;

interface LabelFileBase {
  file: string;
  /** Video/dialogue id → its utterance ids, in file order. */
  videoIds: Map<string, string[]>;
  /** Video id → one label per utterance. */
  videoLabels: Map<string, number[]>;
  /** Video id → one speaker string per utterance ('' for MOSI/MOSEI, 'F'/'M' for IEMOCAP). */
  videoSpeakers: Map<string, string[]>;
  /** Video id → one transcript per utterance. */
  videoSentences: Map<string, string[]>;
}

/** MOSI/MOSEI: 7 items, float labels in [-3, 3], train/val/test video sets. */
export interface SentimentLabelFile extends LabelFileBase {
  kind: "sentiment";
  train: string[];
  val: string[];
  test: string[];
}

/** IEMOCAP: 6 items, integer class labels, F/M speakers, train/test video sets. */
export interface EmotionLabelFile extends LabelFileBase {
  kind: "emotion";
  train: string[];
  test: string[];
}

/**
 * A feature file (spec §1.1): `(name2feats, dim)`. For MOSI/MOSEI each utterance has a host
 * vector only; for IEMOCAP a host ('F') and a guest ('M') vector.
 */
export interface FeatureFile {
  file: string;
  dim: number;
  /** Utterance id → host vector (the 'F' slot for IEMOCAP). */
  host: Map<string, Float32Array>;
  /** Utterance id → guest vector ('M' slot); absent for single-speaker files. */
  guest?: Map<string, Float32Array>;
}

/** One video or dialogue: a sample of the model (spec §1.2). */
export interface Video {
  id: string;
  utteranceIds: string[];
  /** Per utterance: sentiment score (regression) or class id (classification). */
  labels: Float64Array;
  /** Per utterance: 0 = host ('F' or the single speaker), 1 = guest ('M'). */
  speakers: Uint8Array;
  /** Per modality: [n_utterances × dim] row-major, host/guest already selected by speaker. */
  features: PerModality<Float32Array>;
}

export interface Dataset {
  name: DatasetName;
  task: Task;
  /** 1 for regression; the number of classes present in the label file for classification. */
  nClasses: number;
  dims: PerModality<number>;
  videos: Map<string, Video>;
  /** Video ids per split, in label-file order. `val` may be empty (IEMOCAP). */
  splits: { train: string[]; val: string[]; test: string[] };
  /** Where each modality's features came from (for error messages and the results JSON). */
  sources: { labels: string } & PerModality<string>;
}

/**
 * A padded batch of videos, ready for the model (spec §1.2). B videos × S utterances;
 * padding positions are zero with umask 0. Batch-padding rows (to keep jit shapes static)
 * have umask 0 everywhere and videoIds entry null.
 */
export interface Batch {
  B: number;
  S: number;
  /** Per modality: [B, S, d_m] row-major, float32. */
  features: PerModality<Float32Array>;
  /** [B, S]: 1 = valid utterance, 0 = padding. */
  umask: Float32Array;
  /** [B, S]: speaker id (0 host, 1 guest). */
  qmask: Float32Array;
  /** [B, S]: labels (0 at padding). */
  labels: Float32Array;
  videoIds: (string | null)[];
  /** Per row: the number of valid utterances. */
  lengths: number[];
}
