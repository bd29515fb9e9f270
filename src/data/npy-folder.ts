/**
 * The `.npy` folder layout of GCNet/MoMKE (spec §1.1): a feature folder with one entry per
 * utterance id, read as GCNet's `read_data` reads it (gcnet/dataloader_{cmumosi,iemocap}.py) and
 * turned into the same `FeatureFile` the pickle layout gives.
 *
 *   <folder>/<utt>.npy     a vector (dim,) or a time × dim matrix, mean-pooled over time. For
 *                          IEMOCAP it fills the speaking person's slot (F or M, from the label
 *                          file's speaker list) and the other slot is zeros.
 *   <folder>/<utt>/*.npy   a per-utterance folder, as GCNet's face features are stored: every
 *                          file's rows are pooled together (one row per face). For IEMOCAP, a
 *                          file whose name contains 'F' goes to the F slot, else one containing
 *                          'M' to the M slot (GCNet's own rule: `facename.find('F') >= 0`);
 *                          GCNet's compressed IEMOCAP video (`preprocess.py
 *                          feature_compressed_iemocap`, the `manet_UTT` folder) is
 *                          `<utt>/compress_F.npy` + `<utt>/compress_M.npy`. An empty slot is zeros.
 *   <folder>/<utt>_F.npy, <utt>_M.npy   IEMOCAP only: per-speaker files side by side (not a
 *                          GCNet layout, but the obvious flat form of the one above).
 *
 * As GCNet does, arrays are squeezed (axes of length 1 dropped) before pooling, and an utterance
 * with no rows at all (no face found) gets a zero vector. Unlike GCNet (which takes the largest
 * dim it meets), every file must have the same dim. The label file, when given, names the
 * utterances to read and their order; without one every entry of the folder is read, as a
 * single-speaker (MOSI/MOSEI) folder.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import { basename, dirname, join } from "node:path";
import { FeatureDimensionError, FileError, FormatError, MissingUtteranceError, NonFiniteFeatureError } from "../errors.js";
import { readFeatureFile } from "./features.js";
import { readNpy, showShape } from "./npy.js";
import type { FeatureFile, LabelFile } from "./types.js";
import { isFile } from "../files.js";

export interface NpyFolderOptions {
  /**
   * The label file: it names the utterances to read (in its order) and, for IEMOCAP (a 6-item
   * label file), each one's speaker, which places a plain `<utt>.npy` in the F or M slot.
   * Without it every entry of the folder is read, single-speaker (host vectors only).
   */
  labels?: LabelFile;
  /**
   * An utterance the label file names but the folder lacks: an error naming both (default), or
   * left out of the result (`dssr predict`: that modality is missing for the utterance).
   */
  missing?: "error" | "skip";
}

type Speaker = "F" | "M";

/** Where one utterance's features are. */
type Entry =
  | { kind: "file"; path: string }
  | { kind: "folder"; path: string }
  | { kind: "speaker-files"; F?: string; M?: string };

/** Running sum of the rows that go into one vector. */
interface Pool {
  sum: Float64Array | null;
  rows: number;
  files: string[];
}

/** Read a folder in the `.npy` layout (see the module comment). */
export function readNpyFeatureFolder(dir: string, opts: NpyFolderOptions = {}): FeatureFile {
  const listing = listFolder(dir);
  const labels = opts.labels;
  const twoSpeakers = labels?.kind === "emotion";
  const reader = new RowReader(dir);
  const host = new Map<string, Float32Array>();
  const guest = twoSpeakers ? new Map<string, Float32Array>() : undefined;
  const empty: [Map<string, Float32Array>, string][] = [];

  const finish = (target: Map<string, Float32Array>, id: string, pool: Pool): void => {
    if (pool.rows === 0) {
      empty.push([target, id]); // zeros, once the dim is known
      return;
    }
    const out = new Float32Array(reader.dim!);
    for (let j = 0; j < out.length; j++) out[j] = pool.sum![j] / pool.rows;
    const bad = out.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new NonFiniteFeatureError(
        `utterance '${id}' pools to ${out[bad]} at position ${bad} (beyond float32) from ${pool.files.join(", ")}`,
        pool.files[0],
      );
    }
    target.set(id, out);
  };

  const readUtterance = (id: string, entry: Entry, speaker: Speaker | null): void => {
    if (speaker === null) {
      // One speaker: every row of the utterance's file(s) into the host vector.
      const pool = newPool();
      const paths = entry.kind === "file" ? [entry.path] : entry.kind === "folder" ? npyFilesIn(entry.path) : [];
      for (const p of paths) reader.add(pool, p, id);
      finish(host, id, pool);
      return;
    }
    const slots: Record<Speaker, Pool> = { F: newPool(), M: newPool() };
    if (entry.kind === "file") {
      reader.add(slots[speaker], entry.path, id);
    } else if (entry.kind === "folder") {
      for (const p of npyFilesIn(entry.path)) reader.add(slots[speakerOfFaceFile(p)], p, id);
    } else {
      if (entry.F !== undefined) reader.add(slots.F, entry.F, id);
      if (entry.M !== undefined) reader.add(slots.M, entry.M, id);
    }
    finish(host, id, slots.F);
    finish(guest!, id, slots.M);
  };

  if (labels) {
    for (const [vid, ids] of labels.videoIds) {
      const speakers = labels.videoSpeakers.get(vid)!;
      ids.forEach((id, i) => {
        const entry = findEntry(listing, dir, id, twoSpeakers);
        if (entry === null) {
          if (opts.missing === "skip") return;
          throw new MissingUtteranceError(
            `feature folder ${dir} lacks utterance '${id}' (neither ${id}.npy nor a folder ${id}/ is there; ` +
              `video '${vid}', named by label file ${labels.file})`,
            dir, id,
          );
        }
        readUtterance(id, entry, twoSpeakers ? (speakers[i] === "M" ? "M" : "F") : null);
      });
    }
  } else {
    for (const id of utteranceIdsOf(listing)) readUtterance(id, findEntry(listing, dir, id, false)!, null);
  }

  if (reader.dim === undefined) {
    throw new FormatError(
      `feature folder ${dir} holds no feature vectors (no .npy file with any rows` +
        (labels ? ` for the utterances of label file ${labels.file})` : ")"),
      dir,
    );
  }
  for (const [target, id] of empty) target.set(id, new Float32Array(reader.dim));
  return guest ? { file: dir, dim: reader.dim, host, guest } : { file: dir, dim: reader.dim, host };
}

/**
 * Whether `dir` is a folder in the `.npy` layout: a folder holding `.npy` files, directly or in
 * per-utterance sub-folders. Reads directory listings only.
 */
export function isNpyFeatureFolder(dir: string): boolean {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  if (entries.some((e) => e.name.endsWith(".npy") && isFileEntry(dir, e))) return true;
  for (const e of entries) {
    if (!isDirEntry(dir, e)) continue;
    try {
      if (readdirSync(join(dir, e.name)).some((n) => n.endsWith(".npy"))) return true;
    } catch {
      // unreadable sub-folder: not evidence either way
    }
  }
  return false;
}

/** Where a modality's features are: its pickle, or else the `.npy` folder that would hold it. */
export type FeatureSource = { kind: "pickle"; path: string } | { kind: "npy"; path: string };

/**
 * The rule every reader of `<data-dir>/features/<folder>/` uses: `picklePath` (e.g.
 * `<folder>/audio.pkl`) when it is a file; otherwise `<folder>` itself when it is a `.npy`
 * folder (`isNpyFeatureFolder`); otherwise null.
 */
export function featureSource(picklePath: string): FeatureSource | null {
  if (isFile(picklePath)) return { kind: "pickle", path: picklePath };
  const folder = dirname(picklePath);
  if (isNpyFeatureFolder(folder)) return { kind: "npy", path: folder };
  return null;
}

/**
 * Read a modality's features from `picklePath` or, when that file is absent, from the `.npy`
 * folder it would sit in (`featureSource`). `opts` apply to a `.npy` folder; a pickle is read
 * as is (the dataset assembly checks its utterances against the label file).
 */
export function readFeatureSource(picklePath: string, opts: NpyFolderOptions = {}): FeatureFile {
  const source = featureSource(picklePath);
  if (source === null) {
    throw new FileError(
      `feature file not found: ${picklePath} (and ${dirname(picklePath)} holds no .npy files either)`,
      picklePath,
    );
  }
  return source.kind === "pickle" ? readFeatureFile(source.path) : readNpyFeatureFolder(source.path, opts);
}

// ---------------------------------------------------------------------------------------------

/** Reads `.npy` files into pools, fixing the dim at the first file and checking the rest. */
class RowReader {
  dim: number | undefined;
  private dimFile = "";
  constructor(private readonly dir: string) {}

  add(pool: Pool, path: string, id: string): void {
    const arr = readNpy(path);
    // GCNet: `np.load(path).squeeze()`, then [dim] or [time, dim].
    const shape = arr.shape.filter((n) => n !== 1);
    if (shape.length > 2) {
      throw new FormatError(
        `${path} has shape ${showShape(arr.shape)}: expected a vector (dim,) or a time × dim matrix ` +
          `(utterance '${id}'; axes of length 1 are dropped first, as GCNet's squeeze() does)`,
        path,
      );
    }
    const width = shape.length === 0 ? 1 : shape[shape.length - 1];
    if (width === 0) throw new FormatError(`${path} has shape ${showShape(arr.shape)}: vectors of length 0 (utterance '${id}')`, path);
    const data = arr.data;
    const rows = data.length / width;
    if (this.dim === undefined) {
      this.dim = width;
      this.dimFile = path;
    } else if (width !== this.dim) {
      throw new FeatureDimensionError(
        `${path} has vectors of length ${width} (shape ${showShape(arr.shape)}), but ${this.dimFile} has ${this.dim}: ` +
          `every .npy file in feature folder ${this.dir} must have the same dim (utterance '${id}')`,
        path, this.dim, width,
      );
    }
    for (let k = 0; k < data.length; k++) {
      if (!Number.isFinite(data[k])) {
        const r = Math.floor(k / width);
        const where = rows > 1 ? `row ${r}, position ${k - r * width}` : `position ${k}`;
        throw new NonFiniteFeatureError(`${path} has ${data[k]} at ${where} (utterance '${id}')`, path);
      }
    }
    if (rows === 0) return;
    const sum = (pool.sum ??= new Float64Array(width));
    for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) sum[j] += data[r * width + j];
    pool.rows += rows;
    pool.files.push(path);
  }
}

function newPool(): Pool {
  return { sum: null, rows: 0, files: [] };
}

/** Entry name → "file" | "folder" (symbolic links followed); anything else is left out. */
function listFolder(dir: string): Map<string, "file" | "folder"> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "feature folder not found" : code === "ENOTDIR" ? "not a folder" : `cannot read feature folder (${code})`;
    throw new FileError(`${what}: ${dir}`, dir);
  }
  const out = new Map<string, "file" | "folder">();
  for (const e of entries) {
    if (isFileEntry(dir, e)) out.set(e.name, "file");
    else if (isDirEntry(dir, e)) out.set(e.name, "folder");
  }
  return out;
}

/** The utterance entry for `id`, or null; both `<id>.npy` and `<id>/` is an error (GCNet asserts one). */
function findEntry(listing: Map<string, "file" | "folder">, dir: string, id: string, twoSpeakers: boolean): Entry | null {
  const file = listing.get(`${id}.npy`) === "file";
  const folder = listing.get(id) === "folder";
  if (file && folder) {
    throw new FormatError(
      `feature folder ${dir} has both ${id}.npy and a folder ${id}/ for utterance '${id}'; keep one`,
      join(dir, id),
    );
  }
  if (file) return { kind: "file", path: join(dir, `${id}.npy`) };
  if (folder) return { kind: "folder", path: join(dir, id) };
  if (twoSpeakers) {
    const F = listing.get(`${id}_F.npy`) === "file" ? join(dir, `${id}_F.npy`) : undefined;
    const M = listing.get(`${id}_M.npy`) === "file" ? join(dir, `${id}_M.npy`) : undefined;
    if (F !== undefined || M !== undefined) return { kind: "speaker-files", F, M };
  }
  return null;
}

/** Without a label file: every `<id>.npy` and every sub-folder, sorted. */
function utteranceIdsOf(listing: Map<string, "file" | "folder">): string[] {
  const ids = new Set<string>();
  for (const [name, kind] of listing) {
    if (kind === "file" && name.endsWith(".npy")) ids.add(name.slice(0, -4));
    else if (kind === "folder") ids.add(name);
  }
  return [...ids].sort();
}

/** The `.npy` files of a per-utterance folder, sorted by name (GCNet: `sorted(os.listdir(...))`). */
function npyFilesIn(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.name.endsWith(".npy") && isFileEntry(folder, e))
    .map((e) => e.name)
    .sort()
    .map((n) => join(folder, n));
}

/** GCNet's rule for a file in an IEMOCAP per-utterance folder: a name with 'F' is F's, else one with 'M' is M's. */
function speakerOfFaceFile(path: string): Speaker {
  const stem = basename(path).slice(0, -4);
  if (stem.includes("F")) return "F";
  if (stem.includes("M")) return "M";
  throw new FormatError(
    `${path} does not say whose it is: in an IEMOCAP per-utterance folder every file name holds 'F' or 'M' ` +
      "(GCNet writes compress_F.npy and compress_M.npy)",
    path,
  );
}

function isFileEntry(dir: string, e: Dirent): boolean {
  return e.isFile() || (e.isSymbolicLink() && isFile(join(dir, e.name)));
}

function isDirEntry(dir: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return statSync(join(dir, e.name)).isDirectory();
  } catch {
    return false;
  }
}

