/**
 * Options → TrainConfig. A caller (the CLI, a script) gives a partial `TrainOptions`; this fills
 * the gaps from the dataset preset and the common defaults (presets.ts), checks every value, and
 * returns the complete `TrainConfig` that is printed at the start of a run and stored in its
 * results JSON. `checkTrainInputs` then checks that the files the config names exist, so a typo
 * fails in milliseconds rather than after the first feature file is parsed.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkDatasetName, defaultLabelFile, featurePaths } from "../data/dataset.js";
import { featureSource } from "../data/npy-folder.js";
import { ConfigError, FileError } from "../errors.js";
import { checkCondition } from "./conditions.js";
import { COMMON_DEFAULTS, DATASET_PRESETS, RELEASE_FEATURES } from "./presets.js";
import type { DatasetName } from "../data/types.js";
import type { FeatureNames, Normalize, TrainConfig } from "./types.js";
import { isDirectory, isFile } from "../files.js";

/** What a caller may set; everything but `dataset` and `dataDir` has a default. */
export interface TrainOptions {
  /** CMUMOSI, CMUMOSEI, IEMOCAPFour or IEMOCAPSix (CLI `--dataset`). */
  dataset: string;
  /** Folder holding the label file and `features/` (CLI `--data-dir`). */
  dataDir: string;
  /** Default `<dataDir>/<DS>_features_raw_{2,4,6}way.pkl` (CLI `--label-file`). */
  labelFile?: string;
  /** Feature folder names under `<dataDir>/features/`; default the release's (RELEASE_FEATURES). */
  features?: Partial<FeatureNames>;
  /** Available modalities: a, t, v, at, av, tv or atv; default atv (CLI `--test_condition`). */
  condition?: string;
  /** Default: the dataset preset (spec §2.5). */
  epochs?: number;
  /** Default: the preset's when `epochs` is not given, else half of `epochs` (every preset's ratio). */
  stageEpoch?: number;
  lr?: number;
  weightDecay?: number;
  batchSize?: number;
  /** D_e, the hidden size; must be a multiple of `heads`. */
  hidden?: number;
  heads?: number;
  dropout?: number;
  seed?: number;
  normalize?: string;
  /**
   * IEMOCAP: fraction of the training dialogues held out as the validation split, in [0, 0.5]
   * (default 0.1; 0 = none). MOSI/MOSEI: must be absent or null (their label file has a
   * validation split); null for IEMOCAP means the default.
   */
  valFraction?: number | null;
  /** Folder for results.json; default none (nothing written). */
  out?: string | null;
}

/** The CLI flag of each option, for messages (the release's spelling where it has one). */
export const OPTION_FLAGS: Readonly<Record<keyof TrainOptions, string>> = Object.freeze({
  dataset: "--dataset",
  dataDir: "--data-dir",
  labelFile: "--label-file",
  features: "--audio-feature/--text-feature/--video-feature",
  condition: "--test_condition",
  epochs: "--epochs",
  stageEpoch: "--stage_epoch",
  lr: "--lr",
  weightDecay: "--weight-decay",
  batchSize: "--batch_size",
  hidden: "--D_e",
  heads: "--heads",
  dropout: "--drop_rate",
  seed: "--seed",
  normalize: "--normalize",
  valFraction: "--val-fraction",
  out: "--out",
});

const NORMALIZE: readonly Normalize[] = ["zscore", "none"];

/** Fill defaults and validate; every problem is a ConfigError naming the option and its flag. */
export function resolveTrainConfig(opts: TrainOptions): TrainConfig {
  if (typeof opts.dataset !== "string" || opts.dataset === "") {
    throw new ConfigError(`dataset is required (${OPTION_FLAGS.dataset}): one of CMUMOSI, CMUMOSEI, IEMOCAPFour, IEMOCAPSix`);
  }
  const dataset = checkDatasetName(opts.dataset);
  if (typeof opts.dataDir !== "string" || opts.dataDir === "") {
    throw new ConfigError(
      `dataDir is required (${OPTION_FLAGS.dataDir}): the folder holding the label file and features/`,
    );
  }
  const preset = DATASET_PRESETS[dataset];
  const epochs = integer("epochs", opts.epochs ?? preset.epochs, 1, 1_000_000);
  const stageDefault = opts.epochs === undefined ? preset.stageEpoch : Math.floor(epochs / 2);
  const stageEpoch = integer("stageEpoch", opts.stageEpoch ?? stageDefault, 0, epochs);
  const heads = integer("heads", opts.heads ?? COMMON_DEFAULTS.heads, 1, 1024);
  const hidden = integer("hidden", opts.hidden ?? COMMON_DEFAULTS.hidden, 1, 65_536);
  if (hidden % heads !== 0) {
    throw new ConfigError(
      `hidden (${OPTION_FLAGS.hidden}) must be a multiple of heads (${OPTION_FLAGS.heads}): ` +
        `each of the ${heads} heads gets hidden/heads dimensions, got hidden ${hidden}`,
    );
  }
  const normalize = opts.normalize ?? COMMON_DEFAULTS.normalize;
  if (!(NORMALIZE as readonly string[]).includes(normalize)) {
    throw new ConfigError(`unknown normalize '${normalize}' (${OPTION_FLAGS.normalize}); expected ${NORMALIZE.join(" or ")}`);
  }
  const dataDir = resolve(opts.dataDir);
  const features: FeatureNames = {
    audio: featureName("audio", opts.features?.audio),
    text: featureName("text", opts.features?.text),
    video: featureName("video", opts.features?.video),
  };
  return {
    dataset,
    dataDir,
    labelFile: opts.labelFile !== undefined && opts.labelFile !== ""
      ? resolve(opts.labelFile)
      : defaultLabelFile(dataset, dataDir),
    features,
    condition: checkCondition(opts.condition ?? COMMON_DEFAULTS.condition),
    epochs,
    stageEpoch,
    lr: real("lr", opts.lr ?? preset.lr, { above: 0, atMost: 1 }),
    weightDecay: real("weightDecay", opts.weightDecay ?? COMMON_DEFAULTS.weightDecay, { atLeast: 0, below: 1 }),
    batchSize: integer("batchSize", opts.batchSize ?? preset.batchSize, 1, 100_000),
    hidden,
    heads,
    dropout: real("dropout", opts.dropout ?? COMMON_DEFAULTS.dropout, { atLeast: 0, below: 1 }),
    seed: integer("seed", opts.seed ?? COMMON_DEFAULTS.seed, 0, 2 ** 32 - 1),
    normalize: normalize as Normalize,
    valFraction: resolveValFraction(dataset, opts.valFraction),
    out: opts.out === undefined || opts.out === null || opts.out === "" ? null : resolve(opts.out),
  };
}

/** MOSI/MOSEI: null (the label file's validation split); IEMOCAP: a fraction in [0, 0.5]. */
function resolveValFraction(dataset: DatasetName, v: number | null | undefined): number | null {
  const preset = DATASET_PRESETS[dataset].valFraction;
  if (preset === null) {
    if (v === undefined || v === null) return null;
    throw new ConfigError(
      `${label("valFraction")} applies to IEMOCAP, which has no validation split; ${dataset} uses ` +
        `its label file's validation split, so drop it (got ${show(v)})`,
    );
  }
  return real("valFraction", v ?? preset, { atLeast: 0, atMost: 0.5 });
}

function label(key: keyof TrainOptions): string {
  return `${key} (${OPTION_FLAGS[key]})`;
}

function integer(key: keyof TrainOptions, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    const range = key === "stageEpoch" ? `in ${min}..epochs (${max})` : max >= 1_000_000 ? `≥ ${min}` : `in ${min}..${max}`;
    throw new ConfigError(`${label(key)} must be an integer ${range}, got ${show(v)}`);
  }
  return v;
}

interface Bounds {
  above?: number;
  atLeast?: number;
  below?: number;
  atMost?: number;
}

function real(key: keyof TrainOptions, v: unknown, b: Bounds): number {
  const ok =
    typeof v === "number" && Number.isFinite(v) &&
    (b.above === undefined || v > b.above) && (b.atLeast === undefined || v >= b.atLeast) &&
    (b.below === undefined || v < b.below) && (b.atMost === undefined || v <= b.atMost);
  if (!ok) {
    const lo = b.above !== undefined ? `(${b.above}` : `[${b.atLeast}`;
    const hi = b.below !== undefined ? `${b.below})` : `${b.atMost}]`;
    throw new ConfigError(`${label(key)} must be a number in ${lo}, ${hi}, got ${show(v)}`);
  }
  return v as number;
}

function featureName(which: keyof FeatureNames, v: string | undefined): string {
  if (v === undefined) return RELEASE_FEATURES[which];
  if (typeof v !== "string" || v.trim() === "") {
    throw new ConfigError(`the ${which} feature folder (--${which}-feature) must be a non-empty folder name, got ${show(v)}`);
  }
  return v;
}

function show(v: unknown): string {
  return typeof v === "string" ? `'${v}'` : String(v);
}

/**
 * Checks that the data directory, the label file and the three feature files a config names exist
 * (a FileError naming the path; for a missing feature file also the folders that are there), and
 * that `out`, if set, is not an existing file. A feature folder without its pickle but with
 * `.npy` files counts as present (the `.npy` layout, data/npy-folder.ts). Reads no file contents.
 */
export function checkTrainInputs(config: TrainConfig): void {
  if (!isDirectory(config.dataDir)) {
    throw new FileError(`data directory not found: ${config.dataDir} (${OPTION_FLAGS.dataDir})`, config.dataDir);
  }
  if (!isFile(config.labelFile)) {
    throw new FileError(
      `label file not found: ${config.labelFile} (give it with ${OPTION_FLAGS.labelFile}, or put it in the data directory)`,
      config.labelFile,
    );
  }
  const paths = featurePaths(config.dataDir, config.features);
  const which = { a: "audio", t: "text", v: "video" } as const;
  for (const m of ["a", "t", "v"] as const) {
    if (featureSource(paths[m]) !== null) continue; // the pickle, or a folder of .npy files
    const featuresDir = join(config.dataDir, "features");
    const there = isDirectory(featuresDir) ? readdirSync(featuresDir).sort() : [];
    const hint = there.length > 0
      ? `folders in ${featuresDir}: ${there.join(", ")}`
      : `${featuresDir} has no feature folders`;
    throw new FileError(
      `${which[m]} feature file not found: ${paths[m]} (nor .npy files in its folder; --${which[m]}-feature '${config.features[which[m]]}'; ${hint})`,
      paths[m],
    );
  }
  if (config.out !== null && existsSync(config.out) && !isDirectory(config.out)) {
    throw new FileError(`output folder ${config.out} (${OPTION_FLAGS.out}) exists and is not a folder`, config.out);
  }
}


