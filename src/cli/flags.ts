/**
 * The flags of `dssr train` in one table, under the release's names (its run scripts pass
 * `--dataset`, `--test_condition`, `--epochs`, `--stage_epoch`, `--lr`, `--batch_size`, `--D_e`,
 * `--drop_rate`, `--audio-feature`, `--text-feature`, `--video-feature`), plus our own for what the
 * release keeps in its config.py (data paths) or does not have. Since the release mixes `_` and
 * `-`, either spelling of a flag is accepted (`--stage-epoch`, `--batch-size`, `--data_dir`).
 */
import { ConfigError } from "../errors.js";
import { COMMON_DEFAULTS, DATASET_PRESETS, describeRunPresets, RELEASE_FEATURES, RUN_PRESET_NAMES } from "../config/presets.js";
import { CONDITIONS } from "../config/types.js";

export type FlagKind = "int" | "number" | "string" | "boolean";

export interface FlagRow {
  /** Commander flag text, e.g. `--stage_epoch <n>`. */
  flag: string;
  kind: FlagKind;
  help: string;
  /** True where the release's run script has this flag. */
  release: boolean;
}

const preset = (k: "lr" | "batchSize" | "epochs" | "stageEpoch"): string =>
  `MOSI ${DATASET_PRESETS.CMUMOSI[k]}, MOSEI ${DATASET_PRESETS.CMUMOSEI[k]}, IEMOCAP ${DATASET_PRESETS.IEMOCAPFour[k]}`;

export const TRAIN_FLAGS: readonly FlagRow[] = [
  { flag: "--preset <name>", kind: "string", release: false, help: `the release's run script for a dataset, ${RUN_PRESET_NAMES.join(" | ")} (${describeRunPresets()}); a config file and flags override it` },
  { flag: "--config <file>", kind: "string", release: false, help: "JSON object of training options (TrainConfig fields, e.g. a results.json's config; relative paths from the file's folder); overrides --preset, flags override it" },
  { flag: "--dataset <name>", kind: "string", release: true, help: "CMUMOSI, CMUMOSEI, IEMOCAPFour or IEMOCAPSix (required)" },
  { flag: "--data-dir <dir>", kind: "string", release: false, help: "folder holding the label file and features/<folder>/{audio,text,video}.pkl (required)" },
  { flag: "--label-file <file>", kind: "string", release: false, help: "label pickle (default: <data-dir>/<dataset>_features_raw_{2,4,6}way.pkl)" },
  { flag: "--test_condition <c>", kind: "string", release: true, help: `available modalities: ${CONDITIONS.join(", ")} (default ${COMMON_DEFAULTS.condition})` },
  { flag: "--condition <c>", kind: "string", release: false, help: "same as --test_condition" },
  { flag: "--epochs <n>", kind: "int", release: true, help: `training epochs (default ${preset("epochs")})` },
  { flag: "--stage_epoch <n>", kind: "int", release: true, help: `epochs before the subtle stage starts (default ${preset("stageEpoch")}; half of --epochs when only that is given)` },
  { flag: "--lr <x>", kind: "number", release: true, help: `Adam learning rate (default ${preset("lr")})` },
  { flag: "--batch_size <n>", kind: "int", release: true, help: `videos (dialogues) per batch (default ${preset("batchSize")})` },
  { flag: "--D_e <n>", kind: "int", release: true, help: `hidden size D (default ${COMMON_DEFAULTS.hidden})` },
  { flag: "--heads <n>", kind: "int", release: false, help: `attention and MHDW heads (default ${COMMON_DEFAULTS.heads})` },
  { flag: "--drop_rate <p>", kind: "number", release: true, help: `dropout (default ${COMMON_DEFAULTS.dropout})` },
  { flag: "--weight-decay <x>", kind: "number", release: false, help: `Adam L2 weight decay (default ${COMMON_DEFAULTS.weightDecay})` },
  { flag: "--audio-feature <folder>", kind: "string", release: true, help: `audio feature folder under <data-dir>/features (default ${RELEASE_FEATURES.audio})` },
  { flag: "--text-feature <folder>", kind: "string", release: true, help: `text feature folder (default ${RELEASE_FEATURES.text})` },
  { flag: "--video-feature <folder>", kind: "string", release: true, help: `video feature folder (default ${RELEASE_FEATURES.video})` },
  { flag: "--seed <n>", kind: "int", release: true, help: `random seed (default ${COMMON_DEFAULTS.seed})` },
  { flag: "--normalize <method>", kind: "string", release: false, help: `feature normalisation: zscore (fitted on the training utterances) or none, as the release (default ${COMMON_DEFAULTS.normalize})` },
  { flag: "--val-fraction <x>", kind: "number", release: false, help: `IEMOCAP: fraction of the training dialogues held out, per session and seeded per (seed, fold), as the validation split for validation selection; 0 = none (the validation rule then takes the last epoch) (default ${DATASET_PRESETS.IEMOCAPFour.valFraction}; --preset iemocap4: 0, as the release). MOSI/MOSEI: not accepted, their label file has a validation split` },
  { flag: "--fold <session>", kind: "int", release: false, help: "IEMOCAP: the held-out session 1-5 of leave-one-session-out cross-validation" },
  { flag: "--out <dir>", kind: "string", release: false, help: "write <dir>/results.json (atomically, only if the run succeeds)" },
  { flag: "--save-model <dir>", kind: "string", release: false, help: "save the trained model to <dir> (model.safetensors + model.json) for dssr predict / dssr eval" },
  { flag: "--resume <dir>", kind: "string", release: false, help: "continue a killed run from the checkpoints of <dir> (that run's --out: <dir>/checkpoints); the run's settings come from the checkpoint, flags given must agree with them" },
  { flag: "--no-checkpoints", kind: "boolean", release: false, help: "do not write per-epoch checkpoints (default with --out: <out>/checkpoints, every epoch and at the stage switch)" },
  { flag: "--quiet", kind: "boolean", release: false, help: "print only the results, not the config and the per-epoch lines" },
];

/** `--stage_epoch <n>` → `--stage_epoch`. */
export function flagName(row: FlagRow): string {
  return row.flag.split(/[ ,]/)[0];
}

/** Commander's argument parser for an integer flag; a bad value is a ConfigError naming the flag. */
export function integerArg(flag: string): (raw: string) => number {
  return (raw) => {
    const s = raw.trim();
    if (!/^[+-]?\d+$/.test(s)) throw new ConfigError(`${flag} expects an integer, got '${raw}'`);
    return Number(s);
  };
}

/** Commander's argument parser for a real-valued flag (`2e-4`, `0.5`). */
export function numberArg(flag: string): (raw: string) => number {
  return (raw) => {
    const s = raw.trim();
    const v = Number(s);
    if (s === "" || !Number.isFinite(v)) throw new ConfigError(`${flag} expects a number, got '${raw}'`);
    return v;
  };
}

/**
 * Rewrites `--stage-epoch` to `--stage_epoch` (and any other `_`/`-` variant) where the variant
 * is not itself a known flag; `--flag=value` keeps its value. Stops at `--`.
 */
export function normalizeFlagSpelling(args: readonly string[], known: readonly string[]): string[] {
  const canonical = new Map<string, string>();
  for (const f of known) canonical.set(f.replace(/_/g, "-").toLowerCase(), f);
  const out: string[] = [];
  let rest = false;
  for (const a of args) {
    if (rest || !a.startsWith("--") || a === "--") {
      if (a === "--") rest = true;
      out.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    if (known.includes(name)) {
      out.push(a);
      continue;
    }
    const c = canonical.get(name.replace(/_/g, "-").toLowerCase());
    out.push(c === undefined ? a : c + (eq < 0 ? "" : a.slice(eq)));
  }
  return out;
}

/** A comma-separated list of integers for `flag`. */
export function intList(flag: string, raw: string): number[] {
  const parts = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0) throw new ConfigError(`${flag} expects a comma-separated list of integers, got '${raw}'`);
  return parts.map((p) => integerArg(flag)(p));
}
