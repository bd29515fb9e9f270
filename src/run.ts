/**
 * One training run end to end, as the `dssr train` command does it: check the inputs, load and
 * normalise the data (one IEMOCAP leave-one-session-out fold if asked), train and evaluate
 * (train/loop.ts), build the results document and, if the config names an output folder, write
 * `<out>/results.json` atomically, only once the run has succeeded; with `saveModel`, save the
 * trained model (checkpoint/model-file.ts) as well.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { saveTrainResult } from "./checkpoint/model-file.js";
import { checkTrainInputs } from "./config/resolve.js";
import type { TrainConfig } from "./config/types.js";
import { iemocapSessionFolds, loadDataset, normalizeDataset, withSplits, type NormStats } from "./data/dataset.js";
import { holdOutValidation } from "./data/splits.js";
import type { Dataset } from "./data/types.js";
import { ConfigError, FileError } from "./errors.js";
import {
  dssrVersion, RESULTS_FORMAT, summarizeDataset, summarizeTimings, writeJsonAtomic, type ResultsJson,
} from "./report/results.js";
import { train, type CheckpointOptions, type TrainHooks, type TrainResult } from "./train/loop.js";

/** Where `dssr train --out DIR` keeps its checkpoints: `DIR/checkpoints`. */
export function defaultCheckpointDir(out: string): string {
  return join(out, "checkpoints");
}

export interface RunTrainOptions {
  /**
   * IEMOCAP only: the held-out session (1-5) of spec §1.2's leave-one-session-out protocol. Without
   * it an IEMOCAP run uses the label file's own train/test split, which the spec's protocol ignores.
   */
  fold?: number;
  hooks?: TrainHooks;
  /**
   * Save the trained model here (checkpoint/model-file.ts: model.safetensors + model.json) once the
   * run has succeeded. The folder is created before training, so an unwritable path fails early.
   */
  saveModel?: string;
  /**
   * Per-epoch training checkpoints (checkpoint/training-state.ts). Default: `<out>/checkpoints`
   * when the config names an output folder, none otherwise; `false` turns them off.
   */
  checkpoints?: CheckpointOptions | false;
  /** Continue from the checkpoints (default false: start over, overwriting them). */
  resume?: boolean;
}

export interface RunTrainResult {
  result: TrainResult;
  results: ResultsJson;
  /** Where results.json was written, or null when `config.out` is null. */
  resultsPath: string | null;
  /** The model folder written (`saveModel`), or null. */
  modelDir: string | null;
}

export interface RunData {
  dataset: Dataset;
  normalization: NormStats;
}

/**
 * Load the dataset a config names and normalise it (z-score fitted on the training utterances of
 * the split in use). With `fold`, an IEMOCAP dataset gets that session's leave-one-out split; with
 * `config.valFraction` > 0, part of its training dialogues becomes the validation split.
 */
export function loadRunData(config: TrainConfig, fold?: number): RunData {
  return finishRunData(loadRunDataset(config, fold), config, fold);
}

/**
 * The held-out validation dialogues (IEMOCAP, `config.valFraction`, drawn per (seed, fold)), then
 * normalisation fitted on what is left for training. `dataset` is `loadRunDataset`'s, unchanged,
 * so one load serves every seed of a fold.
 */
export function finishRunData(dataset: Dataset, config: TrainConfig, fold?: number): RunData {
  const split = holdOutValidation(dataset, config.valFraction, config.seed, fold ?? null);
  const { dataset: normalized, stats } = normalizeDataset(split, config.normalize);
  return { dataset: normalized, normalization: stats };
}

/** The dataset a config names, with the fold's split if `fold` is given; not normalised. */
export function loadRunDataset(config: TrainConfig, fold?: number): Dataset {
  let dataset = loadDataset({
    name: config.dataset,
    dataDir: config.dataDir,
    labelFile: config.labelFile,
    features: config.features,
  });
  if (fold !== undefined) {
    if (dataset.task !== "classification") {
      throw new ConfigError(`--fold applies to IEMOCAP's leave-one-session-out protocol, not to ${config.dataset}`);
    }
    const folds = iemocapSessionFolds(dataset);
    const f = folds.find((x) => x.session === fold);
    if (f === undefined) {
      throw new ConfigError(
        `fold ${fold} is not a session of ${config.labelFile}; sessions present: ${folds.map((x) => x.session).join(", ")}`,
      );
    }
    dataset = withSplits(dataset, f);
  }
  return dataset;
}

/** The results document of a finished run (report/results.ts), with the process's peak memory. */
export function resultsDocument(result: TrainResult, extras: { fold?: number } = {}): ResultsJson {
  const doc: ResultsJson = {
    format: RESULTS_FORMAT,
    dssrVersion: dssrVersion(),
    createdAt: new Date().toISOString(),
    config: result.config,
    dataset: summarizeDataset(result.dataset),
    history: result.history,
    selections: result.selections,
    timings: summarizeTimings(result.history, result.totalSeconds, result.compileSeconds),
    peakRssMB: peakRssMB(),
  };
  if (extras.fold !== undefined) doc.fold = extras.fold;
  return doc;
}

/** Peak resident set size of this process so far, in MiB (maxRSS is in KiB). */
export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Create the output folder up front, so an unwritable `--out` fails before hours of training. */
export function prepareOutputFolder(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FileError(`cannot create output folder ${out}: ${code}`, out);
  }
}

/** Check the inputs, train, and write `<config.out>/results.json` when the run succeeds. */
export async function runTrain(config: TrainConfig, opts: RunTrainOptions = {}): Promise<RunTrainResult> {
  checkTrainInputs(config);
  if (opts.fold !== undefined && !(Number.isInteger(opts.fold) && opts.fold >= 0 && opts.fold <= 9)) {
    throw new ConfigError(`fold (--fold) must be a session number (IEMOCAP: 1..5), got ${opts.fold}`);
  }
  if (config.out !== null) prepareOutputFolder(config.out);
  if (opts.saveModel !== undefined) prepareOutputFolder(opts.saveModel);
  const data = loadRunData(config, opts.fold);
  const ck =
    opts.checkpoints === false ? null
      : opts.checkpoints ?? (config.out === null ? null : { dir: defaultCheckpointDir(config.out) });
  if (opts.resume === true && ck === null) throw new ConfigError("resume needs checkpoints: give an output folder (--out)");
  const result = await train(config, opts.hooks ?? {}, data, {
    ...(ck === null ? {} : { checkpoints: { ...ck, resume: opts.resume === true, fold: opts.fold ?? null } }),
  });
  const results = resultsDocument(result, opts.fold === undefined ? {} : { fold: opts.fold });
  let resultsPath: string | null = null;
  if (config.out !== null) {
    resultsPath = join(config.out, "results.json");
    await writeJsonAtomic(resultsPath, results);
  }
  let modelDir: string | null = null;
  if (opts.saveModel !== undefined) {
    await saveTrainResult(opts.saveModel, result, opts.fold === undefined ? {} : { fold: opts.fold });
    modelDir = opts.saveModel;
  }
  return { result, results, resultsPath, modelDir };
}
