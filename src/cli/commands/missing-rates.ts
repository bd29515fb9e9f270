/**
 * `dssr table --missing-rates [list]`: the random missing-rate protocol (GCNet) → runMissingRateSweep
 * (src/missing-rates.ts). A bare `--missing-rates` means GCNet's 0,0.1,…,0.7. `dssr table`
 * (commands/table.ts) registers the option and hands the whole action over to `missingRatesAction`.
 */
import { Option } from "commander";
import { DEFAULT_MISSING_RATES, parseMissingRates } from "../../data/missing.js";
import { ConfigError } from "../../errors.js";
import { formatEpochLine } from "../../report/format.js";
import { formatMissingRates, rateText } from "../../report/missing-rates.js";
import { TABLE_FORMATS, type TableFormat } from "../../report/table.js";
import { runMissingRateSweep, type MissingRateHooks, type MissingRateSweepOptions } from "../../missing-rates.js";
import { intList } from "../flags.js";
import { formatConfig, formatSeconds, where, type Io } from "../print.js";
import { createProgress, type Progress } from "../progress.js";
import { layeredOptions, type Values } from "./train.js";

export const MISSING_RATES_FLAG = "--missing-rates";

export function missingRatesOption(): Option {
  return new Option(
    "--missing-rates [list]",
    "the random missing-rate protocol (GCNet) instead of the conditions: per utterance and modality, missing with " +
      "rate r (at least one modality kept, masks fixed per seed); train every rate of the comma-separated list " +
      `(bare: ${DEFAULT_MISSING_RATES.join(",")}) and print one row per rate`,
  );
}

/** The `dssr table` action under `--missing-rates`. */
export async function missingRatesAction(v: Values, io: Io): Promise<void> {
  const raw = v.missingRates;
  const rates = raw === true ? [...DEFAULT_MISSING_RATES] : parseMissingRates(String(raw));
  for (const [flag, key] of [["--conditions", "conditions"], ["--from", "from"], ["--resume", "resume"]] as const) {
    if (v[key] !== undefined && v[key] !== false) throw new ConfigError(`${flag} does not apply to --missing-rates (the missing-rate protocol trains one run per rate)`);
  }
  const format = (v.format as string | undefined) ?? "md";
  if (!(TABLE_FORMATS as readonly string[]).includes(format)) {
    throw new ConfigError(`unknown --format '${format}'; expected one of ${TABLE_FORMATS.join(", ")}`);
  }
  if (v.seeds !== undefined && v.seed !== undefined) throw new ConfigError("give --seed or --seeds, not both");
  const quiet = v.quiet === true;
  const opts: MissingRateSweepOptions = {
    ...(v.seeds === undefined ? {} : { seeds: intList("--seeds", v.seeds as string) }),
    ...(v.folds === undefined ? {} : { folds: intList("--folds", v.folds as string) }),
    shareStage1: v.shareStage1 !== false,
    out: (v.out as string | undefined) ?? null,
  };
  const progress = quiet ? null : progressHooks(io);
  if (progress !== null) opts.hooks = progress.hooks;
  const result = await runMissingRateSweep(layeredOptions(v), rates, opts).finally(() => progress?.stop());
  if (!quiet) io.out(`${result.runs.length} run(s) trained; time ${formatSeconds(result.totalSeconds)}\n`);
  io.out(formatMissingRates(result.table, format as TableFormat));
  if (!quiet && result.written.length > 0) io.out(`\ntables: ${result.written.join(", ")}`);
}

/** Plan and epoch lines, and a bar with the ETA on a terminal (cli/progress.ts). */
function progressHooks(io: Io): { hooks: MissingRateHooks; stop: () => void } {
  let progress: Progress | null = null;
  let epochs = 0;
  const line = (t: string): void => (progress === null ? io.out(t) : progress.line(t));
  const hooks: MissingRateHooks = {
    onStart: ({ config, rates, seeds, folds, total, shared }) => {
      epochs = config.epochs;
      const stage1 = Math.min(config.stageEpoch, config.epochs);
      const groups = seeds.length * (folds === null ? 1 : folds.length);
      line(formatConfig(config).split("\n").filter((l) => !/^\s+(condition|out)\s/.test(l)).join("\n"));
      progress = createProgress(
        io,
        { stage1: (shared ? groups : total) * stage1, stage2: total * (config.epochs - stage1) },
        { label: `epochs of ${total} run(s)` },
      );
      line(
        `missing-rate protocol: rates ${rates.map(rateText).join(", ")}; seeds ${seeds.join(", ")}` +
          (folds === null ? "" : `; folds ${folds.join(", ")}`) +
          `; ${total} run(s); stage 1 on all modalities, ${shared ? "shared by the rates of each seed" : "trained per rate"}`,
      );
    },
    onGroupStart: ({ seed, fold, rates, shared, config }) => {
      if (shared && config.stageEpoch > 0) line(`${where(seed, fold)}: stage 1 once for rates ${rates.map(rateText).join(", ")}`);
    },
    onRateStart: ({ rate, seed, fold, index, total, shared, config }) => {
      const what = shared ? `stage 2 from epoch ${config.stageEpoch + 1}` : `epochs 1-${config.epochs}`;
      line(`[${index}/${total}] missing rate ${rateText(rate)}, ${where(seed, fold)}: ${what}`);
    },
    onEpoch: (record) => progress!.epoch("  " + formatEpochLine(record, { epochs }), record.stage, record.seconds),
    onRunEnd: (run) => {
      line(`  missing cells (test): ${(100 * run.missing.fraction.test).toFixed(2)}%` + (run.resultsPath === null ? "" : `; results: ${run.resultsPath}`));
    },
  };
  return { hooks, stop: () => progress?.stop() };
}
