/**
 * The results document a training run writes (`results.json`), its atomic writer and its checked
 * reader. The document holds everything needed to rebuild every table without rerunning: the
 * resolved config, a summary of the data, the per-epoch history, the three selections (spec §2.5),
 * timings and peak memory.
 *
 * JSON has no NaN: a non-finite metric (a diverged epoch, an empty non-zero-label set) is written
 * as null, as JSON.stringify does, and `readResults` turns it back into NaN.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONDITIONS, type TrainConfig } from "../config/types.js";
import type { Dataset, DatasetName, PerModality, Task } from "../data/types.js";
import { DssrError, FileError } from "../errors.js";
import { writeBytesAtomicSync } from "../checkpoint/safetensors.js";
import { SELECTION_RULES, type EpochRecord, type Selections } from "../eval/types.js";

export const RESULTS_FORMAT = "dssr-results/1";

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
}

export interface DatasetSummary {
  name: DatasetName;
  task: Task;
  nClasses: number;
  dims: PerModality<number>;
  /** Videos (dialogues) per split. */
  videos: SplitCounts;
  /** Utterances per split. */
  utterances: SplitCounts;
  /** The label file and the three feature folders read. */
  sources: Dataset["sources"];
}

export interface Timings {
  /** Mean wall time of a stage-1 epoch (training plus evaluation); null if none ran. */
  stage1SecondsPerEpoch: number | null;
  stage2SecondsPerEpoch: number | null;
  totalSeconds: number;
  /** Time spent compiling (jit) before the first step, where it was measured. */
  compileSeconds?: number;
}

export interface ResultsJson {
  format: typeof RESULTS_FORMAT;
  /** The dssr package version that wrote the document (see `dssrVersion`). */
  dssrVersion: string;
  /** ISO 8601 time of writing. */
  createdAt: string;
  config: TrainConfig;
  /** IEMOCAP leave-one-session-out fold (1-5); absent for MOSI/MOSEI. */
  fold?: number;
  dataset: DatasetSummary;
  history: EpochRecord[];
  selections: Selections;
  timings: Timings;
  /** Peak resident memory of the process, MiB (`process.resourceUsage().maxRSS / 1024`). */
  peakRssMB: number;
}

export function summarizeDataset(dataset: Dataset): DatasetSummary {
  const utterances = (ids: readonly string[]): number =>
    ids.reduce((s, id) => s + (dataset.videos.get(id)?.utteranceIds.length ?? 0), 0);
  const { train, val, test } = dataset.splits;
  return {
    name: dataset.name,
    task: dataset.task,
    nClasses: dataset.nClasses,
    dims: { ...dataset.dims },
    videos: { train: train.length, val: val.length, test: test.length },
    utterances: { train: utterances(train), val: utterances(val), test: utterances(test) },
    sources: { ...dataset.sources },
  };
}

/** Mean epoch seconds per stage from the history, plus the totals the caller measured. */
export function summarizeTimings(
  history: readonly EpochRecord[],
  totalSeconds: number,
  compileSeconds?: number,
): Timings {
  const meanOf = (stage: 1 | 2): number | null => {
    const s = history.filter((r) => r.stage === stage).map((r) => r.seconds);
    return s.length === 0 ? null : s.reduce((a, b) => a + b, 0) / s.length;
  };
  const t: Timings = {
    stage1SecondsPerEpoch: meanOf(1),
    stage2SecondsPerEpoch: meanOf(2),
    totalSeconds,
  };
  if (compileSeconds !== undefined) t.compileSeconds = compileSeconds;
  return t;
}

let cachedVersion: string | undefined;

/** The version in dssr's package.json, found by walking up from this module (src/ or dist/src/). */
export function dssrVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const text = readFileSync(join(dir, "package.json"), "utf8");
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (pkg.name === "dssr" && typeof pkg.version === "string") {
        return (cachedVersion = pkg.version);
      }
    } catch {
      // no package.json here (or not ours): keep walking up
    }
    const up = dirname(dir);
    if (up === dir) return (cachedVersion = "unknown");
    dir = up;
  }
}

/**
 * Writes `text` to a temporary file in the same directory, flushes it, then renames it over
 * `path`, so a reader sees the old file or the whole new one, never a part. On any failure the
 * temporary file is removed; filesystem failures become a FileError naming `path`.
 */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(tmp, "wx");
    await handle.writeFile(text, "utf8");
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileError(`cannot write ${path}: ${code ?? (e as Error).message}`, path);
  }
}

/**
 * `JSON.stringify(value, null, 2)` plus a newline, written atomically. The value is serialised
 * before any file is opened, so a value that cannot be serialised (a cycle, a BigInt) throws its
 * TypeError and leaves no file behind.
 */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new TypeError(`writeJsonAtomic: ${typeof value} is not JSON`);
  await writeTextAtomic(path, text + "\n");
}

/**
 * writeJsonAtomic, synchronously: for callers inside a synchronous stretch of work (a training
 * loop's per-condition callback), where an async write would not run until the loop ends.
 */
export function writeJsonAtomicSync(path: string, value: unknown): void {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new TypeError(`writeJsonAtomicSync: ${typeof value} is not JSON`);
  writeBytesAtomicSync(path, new TextEncoder().encode(text + "\n"));
}

/** Reads and checks a results document; any problem is a DssrError naming the file. */
export async function readResults(path: string): Promise<ResultsJson> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FileError(`cannot read results file ${path}: ${why}`, path);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new DssrError(`results file ${path} is not valid JSON: ${(e as Error).message}`, path);
  }
  return validateResults(doc, path);
}

/**
 * Checks the shape of a parsed results document and returns it typed, with null metrics turned
 * back into NaN (in place). Checks what readers rely on; config fields beyond those printed in
 * reports are left to the config resolver.
 */
export function validateResults(doc: unknown, file: string): ResultsJson {
  const c = new Checker(file);
  const d = c.obj(doc, "document");
  if (d.format !== RESULTS_FORMAT) {
    c.fail("format", `is ${JSON.stringify(d.format)}, expected "${RESULTS_FORMAT}"`);
  }
  c.str(d.dssrVersion, "dssrVersion");
  c.str(d.createdAt, "createdAt");

  const config = c.obj(d.config, "config");
  c.str(config.dataset, "config.dataset");
  if (!(CONDITIONS as readonly unknown[]).includes(config.condition)) {
    const got = JSON.stringify(config.condition);
    c.fail("config.condition", `is ${got}, expected one of ${CONDITIONS.join(", ")}`);
  }
  for (const k of ["epochs", "stageEpoch", "seed"]) c.int(config[k], `config.${k}`);
  if (d.fold !== undefined) c.int(d.fold, "fold");

  const ds = c.obj(d.dataset, "dataset");
  c.str(ds.name, "dataset.name");
  if (ds.task !== "regression" && ds.task !== "classification") {
    c.fail("dataset.task", `is ${describe(ds.task)}, expected "regression" or "classification"`);
  }
  c.int(ds.nClasses, "dataset.nClasses");

  const history = c.arr(d.history, "history");
  if (history.length === 0) c.fail("history", "is empty");
  history.forEach((r, i) => c.epochRecord(r, `history[${i}]`));

  const sel = c.obj(d.selections, "selections");
  for (const rule of SELECTION_RULES) {
    const where = `selections.${rule}`;
    const s = c.obj(sel[rule], where);
    if (s.rule !== rule) c.fail(`${where}.rule`, `is ${JSON.stringify(s.rule)}, expected "${rule}"`);
    c.str(s.description, `${where}.description`);
    c.int(s.epoch, `${where}.epoch`);
    c.metrics(s.test, `${where}.test`);
    if (s.val !== null) c.metrics(s.val, `${where}.val`);
  }

  const t = c.obj(d.timings, "timings");
  c.numOrNull(t, "stage1SecondsPerEpoch", "timings");
  c.numOrNull(t, "stage2SecondsPerEpoch", "timings");
  c.num(t.totalSeconds, "timings.totalSeconds");
  if (t.compileSeconds !== undefined) c.num(t.compileSeconds, "timings.compileSeconds");
  c.num(d.peakRssMB, "peakRssMB");
  return doc as ResultsJson;
}

type Obj = Record<string, unknown>;

const REGRESSION_RATES = ["acc2", "f1", "mae", "corr", "acc2Has0", "f1Has0", "acc7"] as const;
const LOSS_PARTS = ["total", "task", "taskA", "taskT", "taskV"] as const;

class Checker {
  constructor(readonly file: string) {}

  fail(where: string, what: string): never {
    const doc = `results file ${this.file} is not a valid ${RESULTS_FORMAT} document`;
    throw new DssrError(`${doc}: ${where} ${what}`, this.file);
  }

  obj(v: unknown, where: string): Obj {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      this.fail(where, `is ${describe(v)}, expected an object`);
    }
    return v as Obj;
  }

  arr(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) this.fail(where, `is ${describe(v)}, expected an array`);
    return v;
  }

  str(v: unknown, where: string): void {
    if (typeof v !== "string") this.fail(where, `is ${describe(v)}, expected a string`);
  }

  num(v: unknown, where: string): void {
    if (typeof v !== "number") this.fail(where, `is ${describe(v)}, expected a number`);
  }

  int(v: unknown, where: string): void {
    if (!Number.isInteger(v)) this.fail(where, `is ${describe(v)}, expected an integer`);
  }

  /** A metric or loss value: a number, or null for a non-finite one (turned back into NaN). */
  metric(o: Obj, key: string, where: string): void {
    if (o[key] === null) o[key] = NaN;
    else this.num(o[key], `${where}.${key}`);
  }

  /** A value that may legitimately be null (kept as null). */
  numOrNull(o: Obj, key: string, where: string): void {
    if (o[key] !== null) this.num(o[key], `${where}.${key}`);
  }

  metrics(v: unknown, where: string): void {
    const m = this.obj(v, where);
    if (m.kind === "regression") {
      for (const k of REGRESSION_RATES) this.metric(m, k, where);
      for (const k of ["maeAll", "corrAll"]) if (m[k] !== undefined) this.metric(m, k, where);
      this.int(m.n, `${where}.n`);
      this.int(m.nNonZero, `${where}.nNonZero`);
    } else if (m.kind === "classification") {
      for (const k of ["wa", "ua", "f1"]) this.metric(m, k, where);
      this.int(m.n, `${where}.n`);
    } else {
      this.fail(`${where}.kind`, `is ${describe(m.kind)}, expected "regression" or "classification"`);
    }
  }

  epochRecord(v: unknown, where: string): void {
    const r = this.obj(v, where);
    this.int(r.epoch, `${where}.epoch`);
    if (r.stage !== 1 && r.stage !== 2) {
      this.fail(`${where}.stage`, `is ${describe(r.stage)}, expected 1 or 2`);
    }
    const loss = this.obj(r.trainLoss, `${where}.trainLoss`);
    for (const k of LOSS_PARTS) this.metric(loss, k, `${where}.trainLoss`);
    this.numOrNull(loss, "dcl", `${where}.trainLoss`);
    this.numOrNull(loss, "rec", `${where}.trainLoss`);
    if (r.val !== null) this.metrics(r.val, `${where}.val`);
    this.metrics(r.test, `${where}.test`);
    this.num(r.seconds, `${where}.seconds`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return `${typeof v} ${String(v)}`;
}
