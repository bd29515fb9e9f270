/**
 * Label files (spec §1.1): a pickled tuple or list of
 *   7 items (MOSI/MOSEI)  (videoIDs, videoLabels, videoSpeakers, videoSentences, trainVids, valVids, testVids)
 *   6 items (IEMOCAP)     (videoIDs, videoLabels, videoSpeakers, videoSentences, trainVid, testVid)
 * Each of the first four maps a video id to one entry per utterance, as a list or a numpy
 * array; labels may be Python floats/ints, numpy float64 scalars or a numpy array; sentences
 * may be a numpy `<U` array; splits are sets or lists of video ids. Plain typed arrays out, no
 * tensors. Every rejection is a FormatError naming the file and what was expected.
 */
import { FormatError } from "../errors.js";
import type { EmotionLabelFile, LabelFile, SentimentLabelFile } from "./types.js";
import { describe, isDict, NdArray, readPickle, type PyDict, type PyValue } from "./pickle.js";

const FIELDS = ["videoIDs", "videoLabels", "videoSpeakers", "videoSentences"] as const;

/** Read and validate a label file. */
export function readLabelFile(path: string): LabelFile {
  return parseLabelFile(readPickle(path), path);
}

/** Validate an already unpickled label file (`file` is for messages). */
export function parseLabelFile(root: PyValue, file: string): LabelFile {
  const bad = (what: string): FormatError => new FormatError(`${what} in label file ${file}`, file);
  if (!Array.isArray(root) || (root.length !== 7 && root.length !== 6)) {
    throw bad(`expected a tuple or list of 7 items (MOSI/MOSEI) or 6 items (IEMOCAP), got ${describe(root)}`);
  }
  const kind = root.length === 7 ? "sentiment" : "emotion";
  const dicts = FIELDS.map((name, i) => {
    const d = root[i];
    if (!isDict(d)) throw bad(`item ${i} (${name}) should be a dict, got ${describe(d)}`);
    return d;
  });

  const videoIds = new Map<string, string[]>();
  const seenUtterances = new Set<string>();
  for (const [vid, utts] of dicts[0]) {
    if (typeof vid !== "string") throw bad(`videoIDs has a non-string key: ${describe(vid)}`);
    const ids = stringList(utts, `videoIDs['${vid}']`, bad);
    for (const u of ids) {
      if (seenUtterances.has(u)) throw bad(`utterance id '${u}' appears twice`);
      seenUtterances.add(u);
    }
    videoIds.set(vid, ids);
  }

  const perVideo = <T>(d: PyDict, name: string, read: (v: PyValue, where: string) => T[]): Map<string, T[]> => {
    const out = new Map<string, T[]>();
    for (const [vid, ids] of videoIds) {
      if (!d.has(vid)) throw bad(`${name} lacks video '${vid}'`);
      const vals = read(d.get(vid)!, `${name}['${vid}']`);
      if (vals.length !== ids.length) {
        throw bad(`${name}['${vid}'] has ${vals.length} entries but the video has ${ids.length} utterances`);
      }
      out.set(vid, vals);
    }
    for (const k of d.keys()) {
      if (typeof k !== "string" || !videoIds.has(k)) throw bad(`${name} has video ${describe(k)} that videoIDs lacks`);
    }
    return out;
  };

  const videoLabels = perVideo(dicts[1], "videoLabels", (v, where) => numberList(v, where, bad));
  const videoSpeakers = perVideo(dicts[2], "videoSpeakers", (v, where) => stringList(v, where, bad));
  const videoSentences = perVideo(dicts[3], "videoSentences", (v, where) => stringList(v, where, bad));

  for (const [vid, labels] of videoLabels) {
    labels.forEach((y, i) => {
      if (kind === "sentiment" && !(y >= -3 && y <= 3)) {
        throw bad(`videoLabels['${vid}'][${i}] is ${y}, expected a sentiment score in [-3, 3]`);
      }
      if (kind === "emotion" && !(Number.isInteger(y) && y >= 0)) {
        throw bad(`videoLabels['${vid}'][${i}] is ${y}, expected a class id (integer ≥ 0)`);
      }
    });
  }
  if (kind === "emotion") {
    for (const [vid, spk] of videoSpeakers) {
      const i = spk.findIndex((s) => s !== "F" && s !== "M");
      if (i >= 0) throw bad(`videoSpeakers['${vid}'][${i}] is '${spk[i]}', expected 'F' or 'M'`);
    }
  }

  const splitNames = kind === "sentiment" ? ["trainVids", "valVids", "testVids"] : ["trainVid", "testVid"];
  const owner = new Map<string, string>();
  const splits = splitNames.map((name, j) => {
    const set = new Set(stringList(root[4 + j], `item ${4 + j} (${name})`, bad));
    for (const vid of set) {
      if (!videoIds.has(vid)) throw bad(`${name} names video '${vid}' that videoIDs lacks`);
      if (owner.has(vid)) throw bad(`video '${vid}' is in both ${owner.get(vid)} and ${name}`);
      owner.set(vid, name);
    }
    // Sets have no stable order in Python; use the label file's video order.
    return [...videoIds.keys()].filter((vid) => set.has(vid));
  });

  const base = { file, videoIds, videoLabels, videoSpeakers, videoSentences };
  if (kind === "sentiment") {
    const out: SentimentLabelFile = { ...base, kind, train: splits[0], val: splits[1], test: splits[2] };
    return out;
  }
  const out: EmotionLabelFile = { ...base, kind, train: splits[0], test: splits[1] };
  return out;
}

type Bad = (what: string) => FormatError;

/** A list/tuple/set of str, or a numpy `<U` array. */
function stringList(v: PyValue | undefined, where: string, bad: Bad): string[] {
  const items = v instanceof NdArray && v.ndim === 1 ? Array.from(v.data as ArrayLike<unknown>) : v;
  if (!Array.isArray(items)) throw bad(`${where} should be a list of strings, got ${describe(v)}`);
  items.forEach((s, i) => {
    if (typeof s !== "string") throw bad(`${where}[${i}] should be a string, got ${describe(s as PyValue)}`);
  });
  return items as string[];
}

/** A list of Python/numpy numbers, or a 1-D numeric numpy array. */
function numberList(v: PyValue, where: string, bad: Bad): number[] {
  const items = v instanceof NdArray && v.ndim === 1 ? Array.from(v.data as ArrayLike<unknown>) : v;
  if (!Array.isArray(items)) throw bad(`${where} should be a list of numbers, got ${describe(v)}`);
  return items.map((y, i) => {
    if (typeof y !== "number" || !Number.isFinite(y)) {
      throw bad(`${where}[${i}] should be a finite number, got ${describe(y as PyValue)}`);
    }
    return y;
  });
}
