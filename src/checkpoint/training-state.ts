/**
 * Training checkpoints (`dssr-checkpoint/1`): everything a killed run needs to continue and reach
 * the numbers an uninterrupted run reaches. One folder per stream of epochs —
 *
 *   <root>/stage1/              stage 1, shared by every condition (spec §2.2 trains on all three)
 *   <root>/stage2-<condition>/  stage 2 under one condition
 *
 * each holding `checkpoint.json` (the state that is not tensors) and the `state-<epoch>.safetensors`
 * file it names, with its SHA-256. Tensors, float32, named by their path in the parameter tree:
 *
 *   params.<path>        every parameter, e.g. params.salient.proj.a.w ([out, in], PyTorch layout)
 *   adam.m.<path>        Adam's first moments over the stage's trainable tree (step.ts:
 *   adam.v.<path>        stage 1 {salient, heads}; stage 2 {heads, core, generation.<available>})
 *   dcl.centres.<m>      the DCL global class centres [C', D] per modality (stage 1 only)
 *
 * checkpoint.json holds the epoch count done, the Adam step count per parameter group, the DCL
 * batch count, the RNG state, the history so far and the full config. The RNG state is small: batch
 * order and dropout keys are counter-based streams of (seed, epoch, batch) (loop.ts, `epochRng`), so
 * the seed and the next epoch determine every future random draw.
 *
 * Written synchronously (it runs inside the training loop) and atomically: the tensors go to a new
 * file renamed into place, then checkpoint.json is renamed over the old one, then older state files
 * are removed — a kill at any point leaves a complete checkpoint (the old or the new one). Python
 * reads it with `safetensors.numpy.load_file` and `json.load`.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { np, type Arr } from "../engine.js";
import { configDifferences } from "../config/identity.js";
import { availableModalities, type Condition, type TrainConfig } from "../config/types.js";
import { MODALITIES, type PerModality } from "../data/types.js";
import { CheckpointError, FileError } from "../errors.js";
import type { EpochRecord } from "../eval/types.js";
import { linearShapes, type DssrParams, type ModelShape } from "../model/params.js";
import { dssrVersion, writeJsonAtomicSync } from "../report/results.js";
import type { Moments } from "../train/adam.js";
import { splitStage1, splitStage2 } from "../train/step.js";
import { decodeSafetensors, encodeSafetensors, writeBytesAtomicSync, type Tensor } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "dssr-checkpoint/1";
export const CHECKPOINT_JSON = "checkpoint.json";
export const RNG_SCHEME = "counter-based: mulberry32 streams of (seed, epoch) for batch order and (seed, epoch, batch) for dropout keys";

/** The contents of checkpoint.json. */
export interface CheckpointJson {
  format: typeof CHECKPOINT_FORMAT;
  dssrVersion: string;
  /** ISO 8601 time of writing. */
  writtenAt: string;
  stage: 1 | 2;
  /** The stage-2 condition; null for stage 1, which every condition shares. */
  condition: Condition | null;
  /** Epochs finished; the run continues with this 0-based epoch. */
  epochsDone: number;
  /** True for the checkpoint at the end of the last stage-1 epoch (the stage switch). */
  stageSwitch: boolean;
  config: TrainConfig;
  /** IEMOCAP leave-one-session-out fold, or null. */
  fold: number | null;
  shape: ModelShape;
  /** Adam's step count per parameter group (torch counts steps per parameter). */
  adamSteps: Record<string, number>;
  /** DCL state besides the centres tensors: batches seen (drives the EMA momentum, spec §2.4). */
  dcl: { batchCount: number; centres: boolean };
  rng: { scheme: string; seed: number; nextEpoch: number };
  /** Seconds spent compiling so far (reported in results.json). */
  compileSeconds: number;
  history: EpochRecord[];
  state: { file: string; sha256: string; bytes: number; tensors: number };
}

/** What the loop hands over; arrays are borrowed (read with `.ref`). */
export interface TrainingState {
  stage: 1 | 2;
  condition: Condition | null;
  epochsDone: number;
  config: TrainConfig;
  fold: number | null;
  shape: ModelShape;
  params: DssrParams;
  /** Adam moments over the stage's trainable tree (see `momentsTemplate`). */
  moments: Moments<unknown>;
  centres: PerModality<Arr> | null;
  dclBatchCount: number;
  adamSteps: Record<string, number>;
  compileSeconds: number;
  history: EpochRecord[];
}

/** A checkpoint read back: arrays are new and owned by the caller. */
export interface LoadedTrainingState extends Omit<TrainingState, "config"> {
  json: CheckpointJson;
  file: string;
}

/** The folder of one stream of epochs under a checkpoint root. */
export function checkpointDir(root: string, stage: 1 | 2, condition: Condition | null): string {
  return join(root, stage === 1 ? "stage1" : `stage2-${condition}`);
}

// ---- trees ------------------------------------------------------------------------------------
// The parameter trees are nested objects and arrays with arrays (Arr) at the leaves; their shape
// templates (linearShapes) have number[] shapes at the leaves. Paths join keys with dots.

type ShapeTree = number[] | ShapeTree[] | { [k: string]: ShapeTree };

function isShape(t: unknown): t is number[] {
  return Array.isArray(t) && t.every((x) => typeof x === "number");
}

/** Visit every leaf of `template` with its path and shape, and the matching node of `arrays`. */
function walk(template: ShapeTree, arrays: unknown, path: string, visit: (path: string, shape: number[], arr: unknown) => unknown): unknown {
  if (isShape(template)) return visit(path, template, arrays);
  const child = (k: string | number) => (arrays === undefined ? undefined : (arrays as Record<string, unknown>)[k]);
  const sub = (k: string | number) => (path === "" ? String(k) : `${path}.${k}`);
  if (Array.isArray(template)) return template.map((t, i) => walk(t, child(i), sub(i), visit));
  return Object.fromEntries(Object.entries(template).map(([k, t]) => [k, walk(t, child(k), sub(k), visit)]));
}

/** The shape templates of a stage's trees: the parameters and the moments (spec §2.2/§2.3). */
function templates(shape: ModelShape, stage: 1 | 2, condition: Condition | null) {
  const params = linearShapes(shape);
  const moments = stage === 1 ? splitStage1(params) : splitStage2(params, availableModalities(condition!))[0];
  return { params: params as unknown as ShapeTree, moments: moments as unknown as ShapeTree };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// ---- writing ----------------------------------------------------------------------------------

/** Write one checkpoint into `dir` (created); returns the path of its checkpoint.json. */
export function writeTrainingState(dir: string, s: TrainingState): string {
  const t = templates(s.shape, s.stage, s.condition);
  const tensors: [string, Tensor][] = [];
  const take = (prefix: string) => (path: string, shape: number[], arr: unknown) => {
    const a = arr as Arr | undefined;
    if (a === undefined || !sameShape(a.shape, shape)) {
      throw new RangeError(`writeTrainingState: ${prefix}${path} has shape [${a?.shape.join(", ")}], expected [${shape.join(", ")}]`);
    }
    tensors.push([prefix + path, { dtype: "F32", shape: [...shape], data: Float32Array.from(a.ref.dataSync() as Float32Array) }]);
  };
  walk(t.params, s.params, "", take("params."));
  walk(t.moments, s.moments.m, "", take("adam.m."));
  walk(t.moments, s.moments.v, "", take("adam.v."));
  if (s.centres !== null) {
    for (const m of MODALITIES) {
      const c = s.centres[m];
      tensors.push([`dcl.centres.${m}`, { dtype: "F32", shape: [...c.shape], data: Float32Array.from(c.ref.dataSync() as Float32Array) }]);
    }
  }
  const bytes = encodeSafetensors(tensors, { format: CHECKPOINT_FORMAT });
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FileError(`cannot create checkpoint folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, dir);
  }
  const file = `state-${String(s.epochsDone).padStart(4, "0")}.safetensors`;
  writeBytesAtomicSync(join(dir, file), bytes);
  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    dssrVersion: dssrVersion(),
    writtenAt: new Date().toISOString(),
    stage: s.stage,
    condition: s.condition,
    epochsDone: s.epochsDone,
    stageSwitch: s.stage === 1 && s.epochsDone === Math.min(s.config.stageEpoch, s.config.epochs),
    config: s.config,
    fold: s.fold,
    shape: s.shape,
    adamSteps: { ...s.adamSteps },
    dcl: { batchCount: s.dclBatchCount, centres: s.centres !== null },
    rng: { scheme: RNG_SCHEME, seed: s.config.seed, nextEpoch: s.epochsDone },
    compileSeconds: s.compileSeconds,
    history: s.history,
    state: { file, sha256: sha256(bytes), bytes: bytes.length, tensors: tensors.length },
  };
  const jsonPath = join(dir, CHECKPOINT_JSON);
  writeJsonAtomicSync(jsonPath, json);
  for (const f of readdirSync(dir)) {
    if (f !== file && /^state-\d+\.safetensors$/.test(f)) rmSync(join(dir, f), { force: true });
  }
  return jsonPath;
}

// ---- reading ----------------------------------------------------------------------------------

/** Read and check checkpoint.json; a problem is a CheckpointError naming the file. */
export function readCheckpointJson(path: string): CheckpointJson {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FileError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, path);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path} is not a checkpoint: not valid JSON (${(e as Error).message})`, path);
  }
  const d = doc as Partial<CheckpointJson> | null;
  const bad = (what: string) => new CheckpointError(`${path} is not a ${CHECKPOINT_FORMAT} checkpoint: ${what}`, path);
  if (d === null || typeof d !== "object" || Array.isArray(d)) throw bad("not a JSON object");
  if (d.format !== CHECKPOINT_FORMAT) throw bad(`format is ${JSON.stringify(d.format)}`);
  if (d.stage !== 1 && d.stage !== 2) throw bad(`stage is ${JSON.stringify(d.stage)}`);
  if (!Number.isInteger(d.epochsDone) || d.epochsDone! < 0) throw bad(`epochsDone is ${JSON.stringify(d.epochsDone)}`);
  if (typeof d.config !== "object" || d.config === null) throw bad("no config");
  if (typeof d.shape !== "object" || d.shape === null) throw bad("no model shape");
  if (typeof d.adamSteps !== "object" || d.adamSteps === null) throw bad("no adamSteps");
  if (typeof d.dcl?.batchCount !== "number") throw bad("no dcl.batchCount");
  if (!Array.isArray(d.history) || d.history.length !== d.epochsDone) throw bad(`history does not hold ${d.epochsDone} epochs`);
  if (typeof d.state?.file !== "string" || !/^state-\d+\.safetensors$/.test(d.state.file) || typeof d.state.sha256 !== "string") {
    throw bad("no state file");
  }
  return d as CheckpointJson;
}

/**
 * The checkpoint in `dir`, or null when there is none. It must be the same run as `config` (the
 * condition aside for stage 1) and `shape`; anything else — another configuration, a corrupt or
 * replaced state file, a tensor missing or misshapen — is a CheckpointError naming the file.
 */
export function readTrainingState(
  dir: string,
  expect: { config: TrainConfig; fold: number | null; shape: ModelShape; stage: 1 | 2; condition: Condition | null },
): LoadedTrainingState | null {
  const jsonPath = join(dir, CHECKPOINT_JSON);
  if (!existsSync(jsonPath)) return null;
  const json = readCheckpointJson(jsonPath);
  const differ = configDifferences(json.config, expect.config, expect.stage === 1 ? ["condition"] : []);
  if (json.stage !== expect.stage || json.condition !== expect.condition) {
    differ.unshift(`stage ${json.stage} ${json.condition ?? ""} there, ${expect.stage} ${expect.condition ?? ""} now`);
  }
  if ((json.fold ?? null) !== expect.fold) differ.push(`fold ${json.fold ?? "none"} there, ${expect.fold ?? "none"} now`);
  if (JSON.stringify(json.shape) !== JSON.stringify(expect.shape)) {
    differ.push(`model shape ${JSON.stringify(json.shape)} there, ${JSON.stringify(expect.shape)} now`);
  }
  if (differ.length > 0) {
    throw new CheckpointError(`checkpoint ${jsonPath} is from another configuration (${differ.join("; ")}); remove it or choose another output folder`, jsonPath);
  }
  const statePath = join(dir, json.state.file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(statePath);
  } catch (e) {
    throw new CheckpointError(`checkpoint ${jsonPath} names ${statePath}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, statePath);
  }
  const digest = sha256(bytes);
  if (digest !== json.state.sha256) {
    throw new CheckpointError(
      `${statePath} is not the state file ${jsonPath} was written with (SHA-256 ${digest.slice(0, 12)}…, expected ${json.state.sha256.slice(0, 12)}…): corrupt or replaced`,
      statePath,
    );
  }
  const { tensors } = decodeSafetensors(bytes, statePath);
  const used = new Set<string>();
  const load = (prefix: string) => (path: string, shape: number[]) => {
    const name = prefix + path;
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`${statePath} lacks tensor '${name}' (shape [${shape.join(", ")}])`, statePath);
    if (t.dtype !== "F32" || !sameShape(t.shape, shape)) {
      throw new CheckpointError(`tensor '${name}' in ${statePath} is ${t.dtype} [${t.shape.join(", ")}], expected F32 [${shape.join(", ")}]`, statePath);
    }
    used.add(name);
    return np.array(t.data as Float32Array, { dtype: np.float32 }).reshape(shape);
  };
  const t = templates(json.shape, json.stage, json.condition);
  const params = walk(t.params, undefined, "", load("params.")) as DssrParams;
  const moments = { m: walk(t.moments, undefined, "", load("adam.m.")), v: walk(t.moments, undefined, "", load("adam.v.")) };
  let centres: PerModality<Arr> | null = null;
  if (json.dcl.centres) {
    const c = tensors.get("dcl.centres.a");
    const shape = c ? c.shape : [0, json.shape.hidden];
    centres = { a: load("dcl.")("centres.a", shape), t: load("dcl.")("centres.t", shape), v: load("dcl.")("centres.v", shape) };
  }
  const extra = [...tensors.keys()].filter((n) => !used.has(n));
  if (extra.length > 0) {
    throw new CheckpointError(`${statePath} holds tensors a ${json.stage === 1 ? "stage-1" : `stage-2 (${json.condition})`} checkpoint has no place for: ${extra.slice(0, 3).join(", ")}`, statePath);
  }
  return {
    json,
    file: jsonPath,
    stage: json.stage,
    condition: json.condition,
    epochsDone: json.epochsDone,
    fold: json.fold ?? null,
    shape: json.shape,
    params,
    moments,
    centres,
    dclBatchCount: json.dcl.batchCount,
    adamSteps: json.adamSteps,
    compileSeconds: json.compileSeconds,
    history: json.history,
  };
}

/**
 * The most advanced checkpoint under a checkpoint root (a stage-2 one before the stage-1 one), or
 * null: what `--resume DIR` reads the run's config from.
 */
export function findCheckpoint(root: string): CheckpointJson | null {
  if (!existsSync(root)) return null;
  const found: CheckpointJson[] = [];
  for (const d of readdirSync(root).sort()) {
    const path = join(root, d, CHECKPOINT_JSON);
    if (/^(stage1|stage2-[atv]+)$/.test(d) && existsSync(path)) found.push(readCheckpointJson(path));
  }
  found.sort((a, b) => b.stage - a.stage || b.epochsDone - a.epochsDone);
  return found[0] ?? null;
}
