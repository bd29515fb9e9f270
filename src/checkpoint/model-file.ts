/**
 * A trained model as a folder of two files:
 *
 *   model.safetensors   every parameter under its PyTorch state_dict name (params.ts's
 *                       `stateDictEntries`), plus, as zeros, the parameters the released model
 *                       builds but never uses (`releasedUnusedEntries`), so that
 *                       `model.load_state_dict(safetensors.torch.load_file(path))` on the released
 *                       `MMU` works with strict key matching; F32 (or F64), [out, in] layout
 *   model.json          what it takes to use them: format tag "dssr-model/1", the dssr version,
 *                       the model shape, the resolved training config, the normalisation stats
 *                       fitted on the training utterances, the condition trained under, the stage
 *                       and epoch the weights are from, the run's epoch selections, and the
 *                       weights file's size and SHA-256
 *
 * In Python, with the released code (its MMU built with model.json's shape: D_e = hidden, the
 * input dims, n_classes, heads):
 *
 *   from safetensors.torch import load_file
 *   model.load_state_dict(load_file("runs/mosi-at/model/model.safetensors"))
 *
 * Both are written to temporary files first and renamed into place, weights first: a reader sees
 * a complete old or new pair, or — between the two renames — a pair whose hash disagrees, which
 * `loadModel` reports instead of loading mismatched weights. Every problem in a model folder is a
 * CheckpointError (FileError for a missing file) naming the file and what is wrong.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { initEngine, np, type Arr, type DType } from "../engine.js";
import { CONDITIONS, type Condition, type TrainConfig } from "../config/types.js";
import { taskOf } from "../data/dataset.js";
import type { NormStats } from "../data/normalize.js";
import { MODALITIES, type Task } from "../data/types.js";
import { CheckpointError, FileError } from "../errors.js";
import type { Selections } from "../eval/types.js";
import { linearShapes, paramsFromStateDict, stateDictEntries, type DssrParams, type ModelShape } from "../model/params.js";
import { dssrVersion } from "../report/results.js";
import type { TrainResult } from "../train/loop.js";
import { decodeSafetensors, encodeSafetensors, writeBytesAtomicSync, type SafetensorsDtype, type Tensor } from "./safetensors.js";

export const MODEL_FORMAT = "dssr-model/1";
export const WEIGHTS_FILE = "model.safetensors";
export const MODEL_JSON = "model.json";

/** The contents of model.json. */
export interface ModelJson {
  format: typeof MODEL_FORMAT;
  dssrVersion: string;
  /** ISO 8601 time of writing. */
  createdAt: string;
  task: Task;
  /** The condition the subtle stage was trained under (spec §2.5: one model per condition). */
  condition: Condition;
  /** 2 when the weights include a trained subtle stage; 1 when the run never reached it. */
  stage: 1 | 2;
  /** 0-based epoch whose end the weights are from (the run's last epoch). */
  epoch: number;
  /** IEMOCAP leave-one-session-out fold, when the run used one. */
  fold?: number;
  shape: ModelShape;
  config: TrainConfig;
  normalization: NormStats;
  /** The run's epoch selections (spec §2.5), for reference: the weights are the last epoch's. */
  selections: Selections | null;
  weights: { file: typeof WEIGHTS_FILE; dtype: SafetensorsDtype; tensors: number; bytes: number; sha256: string };
}

/** What `saveModel` needs. */
export interface ModelToSave {
  params: DssrParams;
  shape: ModelShape;
  config: TrainConfig;
  normalization: NormStats;
  /** Default: `config.condition`. */
  condition?: Condition;
  /** The run's selections; the epoch each rule picked is recorded, the weights are the last epoch's. */
  selections?: Selections | null;
  fold?: number;
}

/** A model read back by `loadModel`. The caller owns `params` (dispose with `tree.dispose`). */
export interface LoadedModel {
  dir: string;
  params: DssrParams;
  shape: ModelShape;
  config: TrainConfig;
  normalization: NormStats;
  condition: Condition;
  task: Task;
  stage: 1 | 2;
  info: ModelJson;
}

/**
 * The parameters the released model builds and never uses (the golden fixtures' `unused_params`):
 * the gates `gate_{m}_{sha,spe}` (fc1 D×D, fc2 1×D) and the 1×1-conv generators
 * `{x}2{y}_{sha,spe}.conv` (weight [D, d_x, 1]). No output depends on them; we write them as zeros
 * only so that PyTorch's strict `load_state_dict` finds every key it expects.
 */
export function releasedUnusedEntries(s: ModelShape): [string, number[]][] {
  const D = s.hidden;
  const out: [string, number[]][] = [];
  for (const stage of ["sha", "spe"]) {
    for (const m of MODALITIES) {
      out.push([`gate_${m}_${stage}.fc1.weight`, [D, D]], [`gate_${m}_${stage}.fc1.bias`, [D]]);
      out.push([`gate_${m}_${stage}.fc2.weight`, [1, D]], [`gate_${m}_${stage}.fc2.bias`, [1]]);
    }
  }
  for (const stage of ["sha", "spe"]) {
    for (const x of MODALITIES) {
      for (const y of MODALITIES) {
        if (x === y) continue;
        out.push([`${x}2${y}_${stage}.conv.weight`, [D, s.dims[x], 1]], [`${x}2${y}_${stage}.conv.bias`, [D]]);
      }
    }
  }
  return out;
}

/** The stage the last epoch of a config trains: epochs ≥ stageEpoch are stage 2 (spec §2.5). */
export function finalStage(config: Pick<TrainConfig, "epochs" | "stageEpoch">): 1 | 2 {
  return config.epochs > config.stageEpoch ? 2 : 1;
}

/** `saveModel` for a finished training run (train/loop.ts's TrainResult). */
export async function saveTrainResult(dir: string, result: TrainResult, extras: { fold?: number } = {}): Promise<ModelFiles> {
  return saveTrainResultSync(dir, result, extras);
}

/** `saveTrainResult`, synchronously (see saveModelSync). */
export function saveTrainResultSync(dir: string, result: TrainResult, extras: { fold?: number } = {}): ModelFiles {
  return saveModelSync(dir, {
    params: result.params,
    shape: result.shape,
    config: result.config,
    normalization: result.normalization,
    condition: result.config.condition,
    selections: result.selections,
    ...(extras.fold === undefined ? {} : { fold: extras.fold }),
  });
}

export interface ModelFiles {
  weights: string;
  json: string;
}

/**
 * Write `<dir>/model.safetensors` and `<dir>/model.json` (creating `dir`). Borrows the params
 * (reads them with `.ref`; the caller still owns them).
 */
export async function saveModel(dir: string, model: ModelToSave): Promise<ModelFiles> {
  return saveModelSync(dir, model);
}

/**
 * `saveModel`, synchronously: the files are on disk when it returns. `dssr table` saves each run's
 * model from inside a training loop that does not yield, where an async write would wait until the
 * whole table ends (and be lost if it died first).
 */
export function saveModelSync(dir: string, model: ModelToSave): ModelFiles {
  checkShape(model.shape, "saveModel");
  const entries = stateDictEntries(model.params);
  const expected = new Map(stateDictEntries(linearShapes(model.shape)).map(([n, s]) => [n, s as unknown as number[]]));
  let dtype: SafetensorsDtype | null = null;
  const tensors: [string, Tensor][] = entries.map(([name, arr]) => {
    const want = expected.get(name);
    if (!want || !sameShape(arr.shape, want)) {
      throw new RangeError(`saveModel: parameter ${name} has shape [${arr.shape.join(", ")}], the model shape says [${want?.join(", ")}]`);
    }
    const t = toTensor(arr);
    if (dtype !== null && t.dtype !== dtype) throw new RangeError(`saveModel: parameters mix ${dtype} and ${t.dtype} (${name})`);
    dtype = t.dtype;
    return [name, t];
  });
  const zeros = (n: number) => (dtype === "F64" ? new Float64Array(n) : new Float32Array(n));
  for (const [name, shape] of releasedUnusedEntries(model.shape)) {
    tensors.push([name, { dtype: dtype ?? "F32", shape, data: zeros(shape.reduce((a, b) => a * b, 1)) } as Tensor]);
  }
  const condition = model.condition ?? model.config.condition;
  const metadata = { format: "pt", dssr: MODEL_FORMAT, condition };
  const bytes = encodeSafetensors(tensors, metadata);
  const json: ModelJson = {
    format: MODEL_FORMAT,
    dssrVersion: dssrVersion(),
    createdAt: new Date().toISOString(),
    task: taskOf(model.config.dataset),
    condition,
    stage: finalStage(model.config),
    epoch: model.config.epochs - 1,
    ...(model.fold === undefined ? {} : { fold: model.fold }),
    shape: model.shape,
    config: model.config,
    normalization: model.normalization,
    selections: model.selections ?? null,
    weights: { file: WEIGHTS_FILE, dtype: dtype ?? "F32", tensors: tensors.length, bytes: bytes.length, sha256: sha256(bytes) },
  };
  const text = JSON.stringify(json, null, 2) + "\n";

  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileError(`cannot create model folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, dir);
  }
  const files = { weights: join(dir, WEIGHTS_FILE), json: join(dir, MODEL_JSON) };
  // Each file atomically (temporary file, fsync, rename), the weights first: a kill between the two
  // leaves new weights under the old model.json, whose SHA-256 then names the mismatch (loadModel).
  writeBytesAtomicSync(files.weights, bytes);
  writeBytesAtomicSync(files.json, new TextEncoder().encode(text));
  return files;
}

/**
 * Read a model folder written by `saveModel`. Parameters come back in the weights' dtype, or in
 * `opts.dtype`. Checks, in order: model.json is a "dssr-model/1" document; the safetensors file
 * is well formed; it holds exactly the tensors the shape implies, each with the implied shape;
 * its SHA-256 is the one model.json records.
 */
export async function loadModel(dir: string, opts: { dtype?: DType } = {}): Promise<LoadedModel> {
  await initEngine();
  const jsonPath = join(dir, MODEL_JSON);
  const info = readModelJson(jsonPath);
  const weightsPath = join(dir, info.weights.file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(weightsPath);
  } catch (e) {
    throw new FileError(`cannot read model weights ${weightsPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, weightsPath);
  }
  const { tensors } = decodeSafetensors(bytes, weightsPath);
  const expected = stateDictEntries(linearShapes(info.shape)) as unknown as [string, number[]][];
  const describeShape = (s: ModelShape) =>
    `dims a ${s.dims.a} t ${s.dims.t} v ${s.dims.v}, hidden ${s.hidden}, heads ${s.heads}, ${s.nClasses} output(s), depth ${s.depth}`;
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) {
      throw new CheckpointError(`${weightsPath} lacks tensor '${name}' (shape [${shape.join(", ")}]) that ${jsonPath}'s model shape (${describeShape(info.shape)}) needs`, weightsPath);
    }
    if (!sameShape(t.shape, shape)) {
      throw new CheckpointError(
        `tensor '${name}' in ${weightsPath} has shape [${t.shape.join(", ")}], but ${jsonPath}'s model shape ` +
          `(${describeShape(info.shape)}) expects [${shape.join(", ")}]`,
        weightsPath,
      );
    }
  }
  for (const [name, shape] of releasedUnusedEntries(info.shape)) {
    const t = tensors.get(name);
    if (t && !sameShape(t.shape, shape)) {
      throw new CheckpointError(
        `tensor '${name}' in ${weightsPath} (unused by DSSR, kept for PyTorch) has shape [${t.shape.join(", ")}], ` +
          `but ${jsonPath}'s model shape (${describeShape(info.shape)}) expects [${shape.join(", ")}]`,
        weightsPath,
      );
    }
  }
  const known = new Set([...expected, ...releasedUnusedEntries(info.shape)].map(([n]) => n));
  const extra = [...tensors.keys()].filter((n) => !known.has(n));
  if (extra.length > 0) {
    const list = extra.slice(0, 3).map((n) => `'${n}'`).join(", ") + (extra.length > 3 ? `, … (${extra.length} in all)` : "");
    throw new CheckpointError(`${weightsPath} holds tensors that ${jsonPath}'s model shape has no place for: ${list}`, weightsPath);
  }
  const digest = sha256(bytes);
  if (digest !== info.weights.sha256) {
    throw new CheckpointError(
      `${weightsPath} is not the weights file ${jsonPath} was written with (SHA-256 ${digest.slice(0, 12)}…, ` +
        `expected ${info.weights.sha256.slice(0, 12)}…): replaced, modified, or written by an interrupted save`,
      weightsPath,
    );
  }
  const fileDtype = tensors.get(expected[0][0])!.dtype;
  const dtype = opts.dtype ?? (fileDtype === "F64" ? np.float64 : np.float32);
  const params = paramsFromStateDict(info.shape, (name) => tensors.get(name)!.data, dtype);
  return {
    dir,
    params,
    shape: info.shape,
    config: info.config,
    normalization: info.normalization,
    condition: info.condition,
    task: info.task,
    stage: info.stage,
    info,
  };
}

/** Read and check model.json; any problem is a CheckpointError (FileError when missing). */
export function readModelJson(path: string): ModelJson {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    // A run folder of `dssr table --save-models` holds its model one level down, in model/.
    const inside = join(dirname(path), "model", MODEL_JSON);
    const hint = code !== "ENOENT" ? ""
      : existsSync(inside) ? ` (the run's model is in ${dirname(inside)})`
      : " (is this a model folder written by `dssr train --save-model`?)";
    throw new FileError(`cannot read model file ${path}: ${code}${hint}`, path);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`model file ${path} is not valid JSON: ${(e as Error).message}`, path);
  }
  return validateModelJson(doc, path);
}

/** Check a parsed model.json and return it typed. */
export function validateModelJson(doc: unknown, file: string): ModelJson {
  const fail = (where: string, what: string): never => {
    throw new CheckpointError(`model file ${file} is not a valid ${MODEL_FORMAT} document: ${where} ${what}`, file);
  };
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, `is ${show(v)}, expected an object`);
    return v as Record<string, unknown>;
  };
  const posInt = (v: unknown, where: string): number => {
    if (!(Number.isInteger(v) && (v as number) > 0)) fail(where, `is ${show(v)}, expected a positive integer`);
    return v as number;
  };
  const d = obj(doc, "the document");
  if (d.format !== MODEL_FORMAT) {
    throw new CheckpointError(
      `model file ${file} has format ${show(d.format)}, expected "${MODEL_FORMAT}"` +
        (typeof d.format === "string" && d.format.startsWith("dssr-model/") ? " (written by another dssr version)" : ""),
      file,
    );
  }
  if (d.task !== "regression" && d.task !== "classification") fail("task", `is ${show(d.task)}`);
  if (!(CONDITIONS as readonly unknown[]).includes(d.condition)) fail("condition", `is ${show(d.condition)}, expected one of ${CONDITIONS.join(", ")}`);
  if (d.stage !== 1 && d.stage !== 2) fail("stage", `is ${show(d.stage)}, expected 1 or 2`);
  const shape = obj(d.shape, "shape");
  const dims = obj(shape.dims, "shape.dims");
  for (const m of MODALITIES) posInt(dims[m], `shape.dims.${m}`);
  const hidden = posInt(shape.hidden, "shape.hidden");
  const heads = posInt(shape.heads, "shape.heads");
  if (hidden % heads !== 0) fail("shape.hidden", `(${hidden}) is not a multiple of shape.heads (${heads})`);
  const nClasses = posInt(shape.nClasses, "shape.nClasses");
  if ((d.task === "regression") !== (nClasses === 1)) fail("shape.nClasses", `is ${nClasses} for a ${d.task} model`);
  posInt(shape.depth, "shape.depth");
  const config = obj(d.config, "config");
  if (typeof config.dataset !== "string") fail("config.dataset", `is ${show(config.dataset)}`);
  posInt(config.batchSize, "config.batchSize");
  const norm = obj(d.normalization, "normalization");
  if (norm.method === "zscore") {
    for (const part of ["mean", "std"] as const) {
      const p = obj(norm[part], `normalization.${part}`);
      for (const m of MODALITIES) {
        const v = p[m];
        if (!Array.isArray(v) || v.length !== dims[m] || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
          fail(`normalization.${part}.${m}`, `should be ${dims[m] as number} finite numbers`);
        }
      }
    }
  } else if (norm.method !== "none") {
    fail("normalization.method", `is ${show(norm.method)}, expected "zscore" or "none"`);
  }
  const w = obj(d.weights, "weights");
  if (typeof w.file !== "string" || w.file.includes("/") || w.file.includes("\\") || w.file.startsWith(".")) {
    fail("weights.file", `is ${show(w.file)}, expected a file name inside the model folder`);
  }
  if (typeof w.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(w.sha256)) fail("weights.sha256", `is ${show(w.sha256)}`);
  return d as unknown as ModelJson;
}

function checkShape(s: ModelShape, where: string): void {
  const ok = (x: number) => Number.isInteger(x) && x > 0;
  if (!(MODALITIES.every((m) => ok(s.dims[m])) && ok(s.hidden) && ok(s.heads) && ok(s.nClasses) && ok(s.depth) && s.hidden % s.heads === 0)) {
    throw new RangeError(`${where}: invalid model shape ${JSON.stringify(s)}`);
  }
}

function toTensor(arr: Arr): Tensor {
  const shape = [...arr.shape];
  if (arr.dtype === np.float64) return { dtype: "F64", shape, data: (arr.ref.dataSync() as Float64Array).slice() };
  if (arr.dtype === np.float32) return { dtype: "F32", shape, data: (arr.ref.dataSync() as Float32Array).slice() };
  throw new RangeError(`saveModel: parameters must be float32 or float64, got ${String(arr.dtype)}`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "missing";
  return Array.isArray(v) ? "an array" : v === null ? "null" : typeof v === "object" ? "an object" : String(v);
}
