/**
 * Feature files (spec §1.1): a pickled `(name2feats, dim)`. name2feats maps an utterance id to
 *   - a numpy vector of length dim (MOSI/MOSEI), or
 *   - a dict `{'F': vector, 'M': vector}` (IEMOCAP: host 'F', guest 'M').
 * A 2-D value (time × dim) is mean-pooled over time, as the .npy layout is (spec §1.1).
 * Vectors come out as Float32Array; wrong lengths and NaN/±Inf are errors naming the utterance.
 */
import { FeatureDimensionError, FormatError, NonFiniteFeatureError } from "../errors.js";
import type { FeatureFile } from "./types.js";
import { describe, isDict, NdArray, readPickle, type PyValue } from "./pickle.js";
import { isNumericArray } from "./numpy.js";

/** Read and validate a feature file. A missing file is a FileError. */
export function readFeatureFile(path: string): FeatureFile {
  return parseFeatureFile(readPickle(path), path);
}

/** Validate an already unpickled feature file (`file` is for messages). */
export function parseFeatureFile(root: PyValue, file: string): FeatureFile {
  const bad = (what: string): FormatError => new FormatError(`${what} in feature file ${file}`, file);
  if (!Array.isArray(root) || root.length !== 2 || !isDict(root[0])) {
    throw bad(`expected a pair (name2feats dict, dim), got ${describe(root)}`);
  }
  const [name2feats, dim] = root;
  if (typeof dim !== "number" || !Number.isInteger(dim) || dim <= 0) {
    throw bad(`the declared dimension should be a positive integer, got ${describe(dim)}`);
  }
  const host = new Map<string, Float32Array>();
  const guest = new Map<string, Float32Array>();
  let speakerSlots: boolean | null = null;
  for (const [id, value] of name2feats) {
    if (typeof id !== "string") throw bad(`name2feats has a non-string key: ${describe(id)}`);
    const slots = isDict(value);
    if (speakerSlots === null) speakerSlots = slots;
    if (slots !== speakerSlots) {
      throw bad(`utterance '${id}' is ${describe(value)}, but earlier utterances are ${speakerSlots ? "{'F', 'M'} dicts" : "vectors"}`);
    }
    if (isDict(value)) {
      for (const slot of ["F", "M"]) {
        if (!value.has(slot)) throw bad(`utterance '${id}' lacks the '${slot}' slot`);
      }
      host.set(id, vector(value.get("F")!, dim, `${id}['F']`, file));
      guest.set(id, vector(value.get("M")!, dim, `${id}['M']`, file));
    } else {
      host.set(id, vector(value, dim, id, file));
    }
  }
  return speakerSlots ? { file, dim, host, guest } : { file, dim, host };
}

/** One value → a Float32Array of length dim (mean over time for a time × dim matrix). */
function vector(v: PyValue, dim: number, where: string, file: string): Float32Array {
  let data: ArrayLike<number>;
  let rows = 1;
  let width: number;
  if (v instanceof NdArray && isNumericArray(v) && (v.ndim === 1 || v.ndim === 2)) {
    data = v.data;
    width = v.shape[v.ndim - 1];
    if (v.ndim === 2) rows = v.shape[0];
  } else if (Array.isArray(v) && v.every((x) => typeof x === "number")) {
    data = v as number[];
    width = v.length;
  } else {
    throw new FormatError(
      `utterance '${where}' should be a numeric vector or time × dim matrix, got ${describe(v)} in feature file ${file}`,
      file,
    );
  }
  if (width !== dim) {
    throw new FeatureDimensionError(
      `utterance '${where}' has a vector of length ${width}, but the file declares dim ${dim} in feature file ${file}`,
      file, dim, width,
    );
  }
  if (rows === 0) {
    throw new FormatError(`utterance '${where}' has a 0 × ${dim} matrix (no frames to pool) in feature file ${file}`, file);
  }
  const out = new Float32Array(dim);
  if (rows === 1) {
    out.set(data as ArrayLike<number>);
  } else {
    const acc = new Float64Array(dim);
    for (let r = 0; r < rows; r++) for (let j = 0; j < dim; j++) acc[j] += data[r * dim + j];
    for (let j = 0; j < dim; j++) out[j] = acc[j] / rows;
  }
  for (let j = 0; j < dim; j++) {
    if (!Number.isFinite(out[j])) {
      throw new NonFiniteFeatureError(
        `utterance '${where}' has ${out[j]} at position ${j} in feature file ${file}`,
        file,
      );
    }
  }
  return out;
}
