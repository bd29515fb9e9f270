/**
 * From a label file and three feature files to a `Dataset` (spec §1.2): one sample per video
 * or dialogue, its utterances in label-file order; per utterance a speaker id, a label and,
 * per modality, the host vector (speaker 0) or the guest vector (speaker 1).
 */
import { join } from "node:path";
import { ConfigError, FormatError, MissingUtteranceError } from "../errors.js";
import type { FeatureNames } from "../config/types.js";
import { readFeatureSource } from "./npy-folder.js";
import { readLabelFile } from "./labels.js";
import {
  MODALITIES,
  type Dataset, type DatasetName, type FeatureFile, type LabelFile, type PerModality, type Task, type Video,
} from "./types.js";

export { holdOutValidation, iemocapSessionFolds, sessionOf, validationDialogues, withSplits, type Fold } from "./splits.js";
export { applyNormalization, fitZscore, normalizeDataset, type NormStats, type ZscoreStats } from "./normalize.js";

export const DATASET_NAMES: readonly DatasetName[] = ["CMUMOSI", "CMUMOSEI", "IEMOCAPFour", "IEMOCAPSix"];

/** Feature file names inside each `features/<name>/` folder. */
export const FEATURE_FILE_NAMES: PerModality<string> = { a: "audio.pkl", t: "text.pkl", v: "video.pkl" };

export function checkDatasetName(name: string): DatasetName {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown dataset '${name}'; expected one of ${DATASET_NAMES.join(", ")}`);
  }
  return name as DatasetName;
}

export function taskOf(name: DatasetName): Task {
  return name === "CMUMOSI" || name === "CMUMOSEI" ? "regression" : "classification";
}

/** `<dataDir>/<DS>_features_raw_2way.pkl` (MOSI/MOSEI), `IEMOCAP_features_raw_{4,6}way.pkl`. */
export function defaultLabelFile(name: DatasetName, dataDir: string): string {
  const file = {
    CMUMOSI: "CMUMOSI_features_raw_2way.pkl",
    CMUMOSEI: "CMUMOSEI_features_raw_2way.pkl",
    IEMOCAPFour: "IEMOCAP_features_raw_4way.pkl",
    IEMOCAPSix: "IEMOCAP_features_raw_6way.pkl",
  }[checkDatasetName(name)];
  return join(dataDir, file);
}

/** `<dataDir>/features/<folder>/{audio,text,video}.pkl`. */
export function featurePaths(dataDir: string, features: FeatureNames): PerModality<string> {
  return {
    a: join(dataDir, "features", features.audio, FEATURE_FILE_NAMES.a),
    t: join(dataDir, "features", features.text, FEATURE_FILE_NAMES.t),
    v: join(dataDir, "features", features.video, FEATURE_FILE_NAMES.v),
  };
}

export interface LoadDatasetOptions {
  name: DatasetName;
  dataDir: string;
  /** Default: `defaultLabelFile(name, dataDir)`. */
  labelFile?: string;
  /** Feature folder names under `<dataDir>/features/`. */
  features: FeatureNames;
}

/**
 * Read the label file and the three feature files and assemble the dataset. A feature folder
 * without its pickle but with `.npy` files is read in the GCNet/MoMKE `.npy` layout
 * (`readFeatureSource`, npy-folder.ts).
 */
export function loadDataset(opts: LoadDatasetOptions): Dataset {
  const name = checkDatasetName(opts.name);
  const labels = readLabelFile(opts.labelFile ?? defaultLabelFile(name, opts.dataDir));
  const paths = featurePaths(opts.dataDir, opts.features);
  return assembleDataset(name, labels, {
    a: readFeatureSource(paths.a, { labels }),
    t: readFeatureSource(paths.t, { labels }),
    v: readFeatureSource(paths.v, { labels }),
  });
}

/** Assemble a dataset from parsed files (spec §1.2). */
export function assembleDataset(name: DatasetName, labels: LabelFile, features: PerModality<FeatureFile>): Dataset {
  checkDatasetName(name);
  const task = taskOf(name);
  const want = task === "regression" ? "sentiment" : "emotion";
  if (labels.kind !== want) {
    const items = labels.kind === "sentiment" ? 7 : 6;
    throw new ConfigError(
      `dataset ${name} needs a ${want} label file (${want === "sentiment" ? 7 : 6} items), ` +
        `but ${labels.file} has ${items} items (${labels.kind})`,
      labels.file,
    );
  }
  const twoSpeakers = labels.kind === "emotion";
  const videos = new Map<string, Video>();
  for (const [vid, utteranceIds] of labels.videoIds) {
    const n = utteranceIds.length;
    const speakerNames = labels.videoSpeakers.get(vid)!;
    // IEMOCAP: 'F' → 0 (host slot), 'M' → 1 (guest slot). MOSI/MOSEI: one speaker, host only.
    const speakers = Uint8Array.from(speakerNames, (s) => (twoSpeakers && s === "M" ? 1 : 0));
    const feats = {} as PerModality<Float32Array>;
    for (const m of MODALITIES) {
      const file = features[m];
      const out = new Float32Array(n * file.dim);
      utteranceIds.forEach((uid, i) => {
        // A single-slot feature file (plain vectors) serves both speakers from its host map.
        const slot = speakers[i] === 1 && file.guest ? file.guest : file.host;
        const vec = slot.get(uid);
        if (!vec) {
          throw new MissingUtteranceError(
            `feature file ${file.file} lacks utterance '${uid}' (video '${vid}', named by label file ${labels.file})`,
            file.file, uid,
          );
        }
        out.set(vec, i * file.dim);
      });
      feats[m] = out;
    }
    videos.set(vid, {
      id: vid,
      utteranceIds,
      labels: Float64Array.from(labels.videoLabels.get(vid)!),
      speakers,
      features: feats,
    });
  }
  return {
    name,
    task,
    nClasses: task === "regression" ? 1 : countClasses(labels),
    dims: { a: features.a.dim, t: features.t.dim, v: features.v.dim },
    videos,
    splits: labels.kind === "sentiment"
      ? { train: labels.train, val: labels.val, test: labels.test }
      // IEMOCAP's protocol is leave-one-session-out (iemocapSessionFolds); the file's own split is kept as is.
      : { train: labels.train, val: [], test: labels.test },
    sources: { labels: labels.file, a: features.a.file, t: features.t.file, v: features.v.file },
  };
}

/** The classes present, which must be 0..K-1 so the model's K outputs cover every label. */
function countClasses(labels: LabelFile): number {
  const present = new Set<number>();
  for (const ys of labels.videoLabels.values()) for (const y of ys) present.add(y);
  const k = present.size;
  for (let c = 0; c < k; c++) {
    if (!present.has(c)) {
      throw new FormatError(
        `class labels should be 0..${k - 1} with every class present, but class ${c} is absent ` +
          `(labels present: ${[...present].sort((x, y) => x - y).join(", ")}) in label file ${labels.file}`,
        labels.file,
      );
    }
  }
  return k;
}
