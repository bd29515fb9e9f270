/**
 * The random missing-rate protocol (GCNet; data/missing.ts) end to end: per (fold, seed), stage 1
 * on all modalities once, then stage 2 per missing rate, trained and evaluated under that rate's
 * per-utterance masks (trainMissingRates), or, with `shareStage1: false`, each rate trained on its
 * own (the same numbers: batch order and dropout keys are drawn per (seed, epoch)). The results
 * are summed up per rate and selection rule (report/missing-rates.ts). With `out`, each run's
 * results.json (with a `missing` block: rate, effective rate, measured fractions) is written as it
 * finishes to `<out>/rate-<r>[/seed-<s>][/fold-<k>]/results.json`, and the tables to
 * `<out>/missing-rates.{md,csv,json}`.
 */
import { join, resolve } from "node:path";
import { checkTrainInputs, resolveTrainConfig, type TrainOptions } from "./config/resolve.js";
import type { TrainConfig } from "./config/types.js";
import { taskOf } from "./data/dataset.js";
import { checkMissingRate, DEFAULT_MISSING_RATES } from "./data/missing.js";
import { tree } from "./engine.js";
import { ConfigError } from "./errors.js";
import type { EpochRecord } from "./eval/types.js";
import {
  aggregateMissingRates, formatMissingRates, rateText, type MissingRateRun, type MissingRateTable,
} from "./report/missing-rates.js";
import { writeJsonAtomicSync, writeTextAtomic } from "./report/results.js";
import type { TableFormat } from "./report/table.js";
import { loadRunData, prepareOutputFolder, resultsDocument } from "./run.js";
import { tableFolds } from "./table.js";
import { trainMissingRates, type TrainResult } from "./train/loop.js";

export interface MissingRateSweepOptions {
  /** Default [the config's seed]; each seed draws its own masks. */
  seeds?: readonly number[];
  /** IEMOCAP leave-one-session-out folds; default every session (as `dssr table`). */
  folds?: readonly number[];
  /** Train stage 1 once per (fold, seed) and share it across rates (default true). */
  shareStage1?: boolean;
  /** Write every run's results.json and the tables here; default nothing written. */
  out?: string | null;
  hooks?: MissingRateHooks;
}

export interface MissingRateHooks {
  onStart?: (s: { config: TrainConfig; rates: number[]; seeds: number[]; folds: number[] | null; total: number; shared: boolean }) => void;
  /** Before the runs of one (fold, seed). */
  onGroupStart?: (g: { seed: number; fold: number | null; rates: number[]; shared: boolean; config: TrainConfig }) => void;
  /** A rate's stage 2 starts (its whole run when not shared); index is 1-based over all runs. */
  onRateStart?: (r: { rate: number; seed: number; fold: number | null; index: number; total: number; shared: boolean; config: TrainConfig }) => void;
  onEpoch?: (record: EpochRecord, config: TrainConfig) => void;
  onRunEnd?: (run: MissingRateRun) => void;
}

export interface MissingRateSweepResult {
  table: MissingRateTable;
  runs: MissingRateRun[];
  /** missing-rates.{md,csv,json} under `out`; empty without it. */
  written: string[];
  totalSeconds: number;
}

/** `<out>/rate-<r>[/seed-<seed>][/fold-<fold>]`. */
export function missingRateRunDir(out: string, rate: number, seed: number, fold: number | null, seedLevel: boolean): string {
  let dir = join(out, `rate-${rateText(rate)}`);
  if (seedLevel) dir = join(dir, `seed-${seed}`);
  if (fold !== null) dir = join(dir, `fold-${fold}`);
  return dir;
}

/**
 * Train the sweep and build its table. `train` holds the options every run shares (as `dssr
 * table`'s; `condition` and `out` are ignored: the model reads all three inputs, condition atv).
 * `rates` default to GCNet's 0, 0.1, …, 0.7.
 */
export async function runMissingRateSweep(
  train: TrainOptions,
  rates: readonly number[] = DEFAULT_MISSING_RATES,
  opts: MissingRateSweepOptions = {},
): Promise<MissingRateSweepResult> {
  const t0 = performance.now();
  if (rates.length === 0) throw new ConfigError("missing rates (--missing-rates): an empty list");
  for (const r of rates) checkMissingRate(r);
  if (new Set(rates).size !== rates.length) throw new ConfigError("missing rates (--missing-rates): a rate is listed twice");
  const configFor = (seed: number): TrainConfig => resolveTrainConfig({ ...train, condition: "atv", seed, out: null });
  const base = resolveTrainConfig({ ...train, condition: "atv", out: null });
  const seeds = [...(opts.seeds ?? [base.seed])];
  if (seeds.length === 0 || new Set(seeds).size !== seeds.length) throw new ConfigError("seeds (--seeds): empty, or a seed listed twice");
  for (const s of seeds) configFor(s);
  const shared = opts.shareStage1 ?? true;
  const hooks = opts.hooks ?? {};
  const out = opts.out === undefined || opts.out === null || opts.out === "" ? null : resolve(opts.out);
  const task = taskOf(base.dataset);
  if (opts.folds !== undefined && task !== "classification") {
    throw new ConfigError(`folds (--folds) are IEMOCAP's leave-one-session-out protocol; ${base.dataset} has its own test split`);
  }
  checkTrainInputs(base);
  if (out !== null) prepareOutputFolder(out);
  const folds = tableFolds(base, opts.folds);
  const sortedRates = [...rates].sort((a, b) => a - b);
  const seedLevel = seeds.length > 1;
  const total = folds.length * seeds.length * sortedRates.length;
  hooks.onStart?.({ config: configFor(seeds[0]), rates: sortedRates, seeds, folds: folds[0] === null ? null : (folds as number[]), total, shared });

  const runs: MissingRateRun[] = [];
  let index = 0;
  for (const fold of folds) {
    for (const seed of seeds) {
      const config = configFor(seed);
      const data = loadRunData(config, fold ?? undefined);
      const finish = (result: TrainResult) => {
        const missing = result.missing!;
        const dir = out === null ? null : missingRateRunDir(out, missing.rate, seed, fold, seedLevel);
        let resultsPath: string | null = null;
        const runConfig = { ...result.config, out: dir };
        if (dir !== null) {
          prepareOutputFolder(dir);
          resultsPath = join(dir, "results.json");
          const doc = { ...resultsDocument({ ...result, config: runConfig }, fold === null ? {} : { fold }), missing: jsonMissing(missing) };
          writeJsonAtomicSync(resultsPath, doc);
        }
        tree.dispose(result.params as never);
        const run: MissingRateRun = { rate: missing.rate, seed, fold, config: runConfig, selections: result.selections, missing, resultsPath };
        runs.push(run);
        hooks.onRunEnd?.(run);
      };
      const start = (rate: number) => hooks.onRateStart?.({ rate, seed, fold, index: ++index, total, shared, config });
      const epochHook = hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {};
      hooks.onGroupStart?.({ seed, fold, rates: sortedRates, shared, config });
      if (shared) {
        await trainMissingRates(config, sortedRates, { ...epochHook, onMissingRate: (r) => start(r), onResult: finish }, data);
      } else {
        for (const rate of sortedRates) {
          start(rate);
          const [result] = await trainMissingRates(config, [rate], epochHook, data);
          finish(result);
        }
      }
    }
  }
  const table = aggregateMissingRates(runs);
  const written: string[] = [];
  if (out !== null) {
    for (const format of ["md", "csv", "json"] as TableFormat[]) {
      const path = join(out, `missing-rates.${format}`);
      await writeTextAtomic(path, formatMissingRates(table, format) + "\n");
      written.push(path);
    }
  }
  return { table, runs, written, totalSeconds: (performance.now() - t0) / 1000 };
}

/** The `missing` block of a results.json: NaN (an empty split) as null. */
function jsonMissing(m: NonNullable<TrainResult["missing"]>) {
  const f = (x: number) => (Number.isFinite(x) ? x : null);
  return { ...m, fraction: { train: f(m.fraction.train), val: f(m.fraction.val), test: f(m.fraction.test) } };
}
