/**
 * Inputs for `predict` (predict.ts), from files:
 *
 * - a JSON file `{"videos": [{"id": "...", "utterances": [{"id": "...", "a": [...], "t": [...],
 *   "v": [...]}]}]}` where each utterance has any non-empty subset of a, t, v (raw feature
 *   vectors, as the feature files hold them);
 * - the GCNet pickle layout (spec §1.1): a label file, which gives the videos and their utterances
 *   in order (and IEMOCAP's speakers), and up to three `(name2feats, dim)` feature files. A
 *   modality whose file is not given, or whose file lacks an utterance, is absent for that
 *   utterance; an utterance absent from every file cannot be predicted and is listed in `skipped`.
 */
import { readFileSync } from "node:fs";
import { FileError, FormatError } from "./errors.js";
import { readFeatureSource } from "./data/npy-folder.js";
import { readLabelFile } from "./data/labels.js";
import { sessionOf } from "./data/splits.js";
import { MODALITIES, type FeatureFile, type LabelFile, type PerModality } from "./data/types.js";
import type { PredictUtterance, PredictVideo, SplitName } from "./predict.js";

/** Read a JSON input file; structural problems are FormatErrors naming the file and the place. */
export function readPredictJson(path: string): PredictVideo[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FileError(`cannot read input file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new FormatError(`input file ${path} is not valid JSON: ${(e as Error).message}`, path);
  }
  return parsePredictJson(doc, path);
}

/** Check a parsed JSON input and turn it into PredictVideos (vectors as Float32Array). */
export function parsePredictJson(doc: unknown, file: string): PredictVideo[] {
  const fail = (where: string, what: string): never => {
    throw new FormatError(`${where} ${what} in input file ${file} (expected {"videos": [{"id", "utterances": [{"id", "a"?, "t"?, "v"?}]}]})`, file);
  };
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObj(doc)) fail("the document", "is not an object");
  const videos = (doc as Record<string, unknown>).videos;
  if (!Array.isArray(videos)) fail("'videos'", "is missing or not an array");
  return (videos as unknown[]).map((v, vi) => {
    const at = `videos[${vi}]`;
    if (!isObj(v)) fail(at, "is not an object");
    const video = v as Record<string, unknown>;
    if (typeof video.id !== "string") fail(`${at}.id`, "is not a string");
    if (!Array.isArray(video.utterances)) fail(`${at}.utterances`, "is missing or not an array");
    const utterances = (video.utterances as unknown[]).map((u, ui): PredictUtterance => {
      const uat = `${at}.utterances[${ui}]`;
      if (!isObj(u)) fail(uat, "is not an object");
      const utt = u as Record<string, unknown>;
      if (typeof utt.id !== "string") fail(`${uat}.id`, "is not a string");
      const features: Partial<PerModality<Float32Array>> = {};
      for (const m of MODALITIES) {
        const x = utt[m];
        if (x === undefined || x === null) continue;
        if (!Array.isArray(x) || !x.every((n) => typeof n === "number")) fail(`${uat}.${m}`, "is not an array of numbers");
        features[m] = Float32Array.from(x as number[]);
      }
      for (const k of Object.keys(utt)) {
        if (k !== "id" && !(MODALITIES as readonly string[]).includes(k)) fail(`${uat}`, `has an unknown key '${k}'`);
      }
      return { id: utt.id as string, features };
    });
    return { id: video.id as string, utterances };
  });
}

export interface PicklePredictOptions {
  labelFile: string;
  /** Feature files of the modalities to read; a modality without one is absent everywhere. */
  featureFiles: Partial<PerModality<string>>;
  /** Only these videos, in this order (e.g. a split); default every video, in label-file order. */
  videoIds?: readonly string[];
}

export interface PicklePredictInput {
  videos: PredictVideo[];
  /** `video/utterance` ids that no given feature file has (left out of `videos`). */
  skipped: string[];
  labels: LabelFile;
}

/**
 * Read the label file and the given feature files and assemble predict's input. A feature file
 * that is absent but whose folder holds `.npy` files is read in that layout (npy-folder.ts); an
 * utterance it lacks has that modality missing, as with a pickle.
 */
export function readPredictPickles(opts: PicklePredictOptions): PicklePredictInput {
  const labels = readLabelFile(opts.labelFile);
  const features: Partial<PerModality<FeatureFile>> = {};
  for (const m of MODALITIES) {
    const path = opts.featureFiles[m];
    if (path !== undefined) features[m] = readFeatureSource(path, { labels, missing: "skip" });
  }
  return { ...predictInputFromFiles(labels, features, opts.videoIds), labels };
}

/**
 * Videos from parsed files: per utterance, each feature file's vector when the file has the
 * utterance (IEMOCAP: the 'M' slot for the guest speaker, as training reads it).
 */
export function predictInputFromFiles(
  labels: LabelFile,
  features: Partial<PerModality<FeatureFile>>,
  videoIds: readonly string[] = [...labels.videoIds.keys()],
): { videos: PredictVideo[]; skipped: string[] } {
  const skipped: string[] = [];
  const twoSpeakers = labels.kind === "emotion";
  const videos = videoIds.map((vid): PredictVideo => {
    const ids = labels.videoIds.get(vid);
    if (!ids) throw new FormatError(`video '${vid}' is not in label file ${labels.file}`, labels.file);
    const speakers = labels.videoSpeakers.get(vid)!;
    const utterances: PredictUtterance[] = [];
    ids.forEach((uid, i) => {
      const guest = twoSpeakers && speakers[i] === "M";
      const f: Partial<PerModality<Float32Array>> = {};
      for (const m of MODALITIES) {
        const file = features[m];
        if (!file) continue;
        const vec = (guest && file.guest ? file.guest : file.host).get(uid);
        if (vec) f[m] = vec;
      }
      if (Object.keys(f).length === 0) skipped.push(`${vid}/${uid}`);
      else utterances.push({ id: uid, features: f });
    });
    return { id: vid, utterances };
  });
  return { videos, skipped };
}

/**
 * A split's video ids from a label file: MOSI/MOSEI the file's train/val/test sets; IEMOCAP with
 * `fold` the leave-one-session-out split (spec §1.2: test = the held-out session, no val), without
 * it the file's own train/test sets.
 */
export function splitVideoIds(labels: LabelFile, split: SplitName, fold?: number): string[] {
  if (labels.kind === "sentiment") return [...labels[split]];
  if (fold !== undefined) {
    const all = [...labels.videoIds.keys()];
    if (split === "val") return [];
    return all.filter((id) => (sessionOf(id, labels.file) === fold) === (split === "test"));
  }
  return split === "val" ? [] : [...labels[split]];
}
