/**
 * Where a run's options come from, lowest first: the dataset defaults (resolve.ts fills them),
 * a `--preset` (the release's run script for a dataset, presets.ts), a `--config FILE.json`, and
 * the command-line flags. Each layer is a partial `TrainOptions`; a later layer's value replaces
 * an earlier one's, key by key (the three feature folders one by one). `resolveTrainConfig` then
 * fills what no layer set and checks every value.
 *
 * One rule keeps the layers coherent: a layer that sets `epochs` without `stageEpoch` also drops
 * the `stageEpoch` of the layers below it, so `--preset mosi --epochs 20` runs 10 + 10 epochs
 * (half and half, as every preset splits them) rather than failing on stage_epoch 200 > 20.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { ConfigError, FileError } from "../errors.js";
import { RUN_PRESET_NAMES, RUN_PRESETS, type RunPreset, type RunPresetName } from "./presets.js";
import type { TrainOptions } from "./resolve.js";
import type { FeatureNames } from "./types.js";

/** One layer of options and where it came from (for messages: "preset mosi", "config file x.json"). */
export interface OptionLayer {
  source: string;
  options: Partial<TrainOptions>;
}

/** `--preset <name>` → the preset, or a ConfigError listing the names. */
export function runPreset(name: string): RunPreset {
  if (!(RUN_PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`unknown preset '${name}' (--preset); expected one of ${RUN_PRESET_NAMES.join(", ")}`);
  }
  return RUN_PRESETS[name as RunPresetName];
}

/** The options layer of a preset (its conditions are the table's business, not a run's). */
export function presetLayer(name: string): OptionLayer {
  const p = runPreset(name);
  return {
    source: `preset ${name}`,
    options: {
      dataset: p.dataset, epochs: p.epochs, stageEpoch: p.stageEpoch, lr: p.lr, batchSize: p.batchSize,
      dropout: p.dropout, hidden: p.hidden, seed: p.seed, normalize: p.normalize,
      ...(p.valFraction === undefined ? {} : { valFraction: p.valFraction }),
    },
  };
}

type Kind = "string" | "number" | "string|null" | "number|null" | "features";

/** The keys a config file may hold: exactly the fields of TrainConfig (what results.json stores). */
export const CONFIG_FILE_KEYS: Readonly<Record<keyof TrainOptions, Kind>> = Object.freeze({
  dataset: "string",
  dataDir: "string",
  labelFile: "string",
  features: "features",
  condition: "string",
  epochs: "number",
  stageEpoch: "number",
  lr: "number",
  weightDecay: "number",
  batchSize: "number",
  hidden: "number",
  heads: "number",
  dropout: "number",
  seed: "number",
  normalize: "string",
  valFraction: "number|null",
  out: "string|null",
});

/** Keys holding paths: relative ones are taken relative to the config file's folder. */
const PATH_KEYS = ["dataDir", "labelFile", "out"] as const;

/**
 * Reads `--config FILE.json`: a JSON object whose keys are TrainConfig fields (the `config` object
 * of a results.json qualifies). An unknown key, a value of the wrong type, or a file that is not a
 * JSON object is a ConfigError naming the key and the file; an unreadable file a FileError.
 * Relative `dataDir`, `labelFile` and `out` are resolved against the file's folder, so a config
 * file means the same wherever it is run from. Values are range-checked later, by resolveTrainConfig.
 */
export function readConfigFile(path: string): OptionLayer {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FileError(`cannot read config file ${file} (--config): ${why}`, file);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid JSON: ${(e as Error).message}`, file);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`config file ${file} must hold a JSON object of training options, got ${describe(doc)}`, file);
  }
  const known = Object.keys(CONFIG_FILE_KEYS);
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    const kind = (CONFIG_FILE_KEYS as Record<string, Kind | undefined>)[key];
    if (kind === undefined) {
      throw new ConfigError(`unknown key '${key}' in config file ${file}; expected some of ${known.join(", ")}`, file);
    }
    const bad = (want: string) =>
      new ConfigError(`key '${key}' in config file ${file} must be ${want}, got ${describe(value)}`, file);
    if (kind === "string" && typeof value !== "string") throw bad("a string");
    if (kind === "number" && typeof value !== "number") throw bad("a number");
    if (kind === "string|null" && value !== null && typeof value !== "string") throw bad("a string or null");
    if (kind === "number|null" && value !== null && typeof value !== "number") throw bad("a number or null");
    if (kind === "features") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("an object such as {\"audio\": \"wav2vec-large-c-UTT\"}");
      for (const [k, v] of Object.entries(value)) {
        if (k !== "audio" && k !== "text" && k !== "video") {
          throw new ConfigError(`unknown key 'features.${k}' in config file ${file}; expected audio, text or video`, file);
        }
        if (typeof v !== "string") {
          throw new ConfigError(`key 'features.${k}' in config file ${file} must be a string, got ${describe(v)}`, file);
        }
      }
    }
    options[key] = value;
  }
  for (const k of PATH_KEYS) {
    const v = options[k];
    if (typeof v === "string" && v !== "") options[k] = resolve(dirname(file), v);
  }
  return { source: `config file ${file}`, options: options as Partial<TrainOptions> };
}

/**
 * Layers, lowest first → one partial TrainOptions (undefined values set nothing). A preset fixes
 * the dataset: a higher layer naming another dataset is a ConfigError, since the preset's schedule
 * belongs to its dataset.
 */
export function mergeOptionLayers(layers: readonly OptionLayer[]): Partial<TrainOptions> {
  const out: Partial<TrainOptions> = {};
  let datasetFrom: OptionLayer | undefined;
  for (const layer of layers) {
    const o = layer.options;
    for (const [key, value] of Object.entries(o) as [keyof TrainOptions, unknown][]) {
      if (value === undefined || key === "features") continue;
      (out as Record<string, unknown>)[key] = value;
    }
    if (o.features !== undefined) {
      const f: Partial<FeatureNames> = { ...(out.features ?? {}) };
      for (const k of ["audio", "text", "video"] as const) if (o.features[k] !== undefined) f[k] = o.features[k];
      out.features = f;
    }
    if (o.epochs !== undefined && o.stageEpoch === undefined) delete out.stageEpoch;
    if (o.dataset !== undefined) {
      if (datasetFrom?.source.startsWith("preset ") && datasetFrom.options.dataset !== o.dataset) {
        throw new ConfigError(
          `${datasetFrom.source} is for ${datasetFrom.options.dataset}, but ${layer.source} sets dataset ` +
            `'${o.dataset}'; drop one of them`,
        );
      }
      if (datasetFrom === undefined || !datasetFrom.source.startsWith("preset ")) datasetFrom = layer;
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}
