/**
 * `dssr convert`: a GCNet/MoMKE `.npy` feature folder → the pickle layout `(name2feats, dim)`
 * (spec §1.1) that GCNet's `read_data` returns and the DSSR release reads, written atomically.
 */
import { dirname, resolve } from "node:path";
import { ConfigError, FileError } from "../errors.js";
import { checkDatasetName, taskOf } from "./dataset.js";
import { readLabelFile } from "./labels.js";
import { readNpyFeatureFolder } from "./npy-folder.js";
import { tuple, writePickle, type PickleIn } from "./pickle-writer.js";
import type { DatasetName, FeatureFile } from "./types.js";
import { isDirectory } from "../files.js";

export interface ConvertNpyOptions {
  /** The `.npy` folder. */
  from: string;
  /** The pickle to write (replaced atomically if it exists). */
  to: string;
  /**
   * Label pickle: the utterances to convert, in its order, each one required; for IEMOCAP also
   * the speakers that place a plain `<utt>.npy` in the F or M slot. Without it every entry of
   * the folder is converted as single-speaker vectors.
   */
  labelFile?: string;
  /** If given, the label file must be of this dataset's kind, and IEMOCAP requires one. */
  dataset?: DatasetName;
}

export interface ConvertNpyResult {
  from: string;
  to: string;
  labelFile: string | null;
  utterances: number;
  dim: number;
  /** True when each utterance maps to `{'F': vector, 'M': vector}` (IEMOCAP). */
  speakerSlots: boolean;
}

/**
 * Read a `.npy` feature folder (`readNpyFeatureFolder`, every check included) and write it as a
 * feature pickle: vectors as float32 numpy arrays, `dim` as a Python int. The pickle goes to a
 * temporary name beside `to` and is renamed over it, so a failed conversion leaves no file.
 */
export function convertNpyFolder(opts: ConvertNpyOptions): ConvertNpyResult {
  const from = resolve(opts.from);
  const to = resolve(opts.to);
  if (!isDirectory(from)) throw new FileError(`the .npy folder to convert is not a folder: ${from}`, from);
  if (isDirectory(to)) throw new FileError(`the output ${to} is a folder; give the pickle file to write, e.g. ${to}/audio.pkl`, to);
  if (!isDirectory(dirname(to))) throw new FileError(`the output's folder does not exist: ${dirname(to)}`, to);
  const dataset = opts.dataset === undefined ? undefined : checkDatasetName(opts.dataset);
  if (dataset !== undefined && opts.labelFile === undefined && taskOf(dataset) === "classification") {
    throw new ConfigError(
      `${dataset} needs its label file to convert a .npy folder: the speaker of each utterance decides its F or M slot`,
    );
  }
  const labels = opts.labelFile === undefined ? undefined : readLabelFile(opts.labelFile);
  if (dataset !== undefined && labels !== undefined) {
    const want = taskOf(dataset) === "regression" ? "sentiment" : "emotion";
    if (labels.kind !== want) {
      throw new ConfigError(
        `dataset ${dataset} needs a ${want} label file (${want === "sentiment" ? 7 : 6} items), but ${labels.file} is a ${labels.kind} label file`,
        labels.file,
      );
    }
  }
  const file = readNpyFeatureFolder(from, { labels });
  writePickle(to, featureFilePickle(file));
  return {
    from, to,
    labelFile: labels?.file ?? null,
    utterances: file.host.size,
    dim: file.dim,
    speakerSlots: file.guest !== undefined,
  };
}

/** A feature file as the pickle layout: `(name2feats, dim)`, IEMOCAP values `{'F': v, 'M': v}`. */
export function featureFilePickle(file: FeatureFile): PickleIn {
  const name2feats = new Map<PickleIn, PickleIn>();
  for (const [id, vec] of file.host) {
    const guest = file.guest?.get(id);
    name2feats.set(id, file.guest ? new Map<PickleIn, PickleIn>([["F", vec], ["M", guest ?? new Float32Array(file.dim)]]) : vec);
  }
  return tuple(name2feats, BigInt(file.dim));
}

