/** `dssr table`: the paper's Table 1 for one dataset → buildTable (src/table.ts). */
import { Option, type Command } from "commander";
import { parseConditionList } from "../../config/conditions.js";
import { runPreset } from "../../config/layers.js";
import type { Condition, TrainConfig } from "../../config/types.js";
import type { EpochRecord } from "../../eval/types.js";
import { ConfigError } from "../../errors.js";
import { formatEpochLine } from "../../report/format.js";
import { formatTable, TABLE_FORMATS, type TableFormat } from "../../report/table.js";
import { buildTable, type TableOptions } from "../../table.js";
import { flagName, integerArg, intList, numberArg, TRAIN_FLAGS } from "../flags.js";
import { formatConfig, formatSeconds, where, type Io } from "../print.js";
import { createProgress, type EpochPlan, type Progress } from "../progress.js";
import { MISSING_RATES_FLAG, missingRatesAction, missingRatesOption } from "./missing-rates.js";
import { layeredOptions, type Values } from "./train.js";

/**
 * The train flags a table shares: the training options. Not the condition, fold, output and model
 * flags, which a table sets per run itself (an allow-list, so a new train flag is not taken along
 * unless it means the same here).
 */
const TABLE_TRAIN_FLAG_NAMES = new Set([
  "--preset", "--config", "--dataset", "--data-dir", "--label-file", "--epochs", "--stage_epoch", "--lr",
  "--batch_size", "--D_e", "--heads", "--drop_rate", "--weight-decay", "--audio-feature", "--text-feature",
  "--video-feature", "--seed", "--normalize", "--val-fraction",
]);
const TABLE_TRAIN_FLAGS = TRAIN_FLAGS.filter((r) => TABLE_TRAIN_FLAG_NAMES.has(flagName(r)));

/** Flags only `dssr table` has (for main.ts's spelling normaliser). */
export const TABLE_FLAGS = [
  "--conditions", "--seeds", "--folds", "--share-stage1", "--no-share-stage1", "--from", "--format", "--out",
  "--resume", "--quiet", "--jobs", "--save-models", MISSING_RATES_FLAG,
] as const;

export function registerTable(program: Command, io: Io): void {
  const cmd = program
    .command("table")
    .description(
      "the paper's Table 1 for one dataset: train every condition (or collect earlier results with --from) " +
        "and print test Acc-2/F1 (MOSI, MOSEI) or WA/UA (IEMOCAP) per condition, with Avg over the six " +
        "missing conditions, once per selection rule",
    )
    .addHelpText(
      "after",
      "\nOptions layer as: dataset defaults < --preset < --config FILE.json < flags.\n" +
        "Tables: one per selection rule — paper (best stage-2 epoch on the TEST set, as the paper: optimistic),\n" +
        "validation (best stage-2 epoch on the validation split; the last epoch where there is none), last.\n" +
        "Examples:\n" +
        "  dssr table --preset mosi --data-dir ~/GCNet/dataset/CMUMOSI --out runs/mosi\n" +
        "  dssr table --preset iemocap4 --data-dir ~/GCNet/dataset/IEMOCAP --folds 1,2,3,4,5 --seeds 66,67,68 --out runs/iemocap\n" +
        "  dssr table --from runs/mosi --format csv",
    );
  for (const row of TABLE_TRAIN_FLAGS) {
    const opt = new Option(row.flag, row.help);
    const name = flagName(row);
    if (row.kind === "int") opt.argParser(integerArg(name));
    if (row.kind === "number") opt.argParser(numberArg(name));
    cmd.addOption(opt);
  }
  cmd
    .addOption(new Option("--conditions <list>", "comma-separated conditions (default: all seven, a,t,v,av,at,tv,atv; with --from, all found)"))
    .addOption(new Option("--seeds <list>", "comma-separated seeds: each cell is run once per seed and shows mean ± sample std (default: --seed)"))
    .addOption(new Option("--folds <list>", "IEMOCAP: held-out sessions of leave-one-session-out, averaged per cell (default: all, 1,2,3,4,5)"))
    .addOption(new Option("--share-stage1", "train stage 1 once per seed (and fold) and continue every condition from it; the same numbers as separate runs (default)"))
    .addOption(new Option("--no-share-stage1", "train each condition separately, stage 1 included"))
    .addOption(new Option("--from <dir>", "do not train: collect <dir>/<condition>/…/results.json written by earlier runs (dssr train --out, dssr table --out)"))
    .addOption(new Option("--format <fmt>", `output format: ${TABLE_FORMATS.join(", ")} (default md)`))
    .addOption(new Option("--out <dir>", "write <dir>/<condition>[/seed-<s>][/fold-<k>]/results.json as each run finishes, and <dir>/table.{md,csv,json}"))
    .addOption(new Option("--resume", "with --out: reuse runs whose results.json is already there (same config) instead of training them again"))
    .addOption(new Option("--jobs <n>", "runs trained at once, each in its own process (one core each; about 2 GiB of memory each at MOSI's size); needs --out (default 1)").argParser(integerArg("--jobs")))
    .addOption(new Option("--save-models", "with --out: also save each run's final model to <run folder>/model/ (for dssr predict, eval, plot case)"))
    .addOption(new Option("--quiet", "print only the table"))
    .addOption(missingRatesOption())
    .action(async (v: Values) => {
      if (v.missingRates !== undefined) {
        if (v.jobs !== undefined) throw new ConfigError("--jobs applies to the conditions' table, not to --missing-rates");
        if (v.saveModels === true) throw new ConfigError("--save-models applies to the conditions' table, not to --missing-rates");
        return missingRatesAction(v, io); // commands/missing-rates.ts
      }
      const format = (v.format as string | undefined) ?? "md";
      if (!(TABLE_FORMATS as readonly string[]).includes(format)) {
        throw new ConfigError(`unknown --format '${format}'; expected one of ${TABLE_FORMATS.join(", ")}`);
      }
      const quiet = v.quiet === true;
      const from = v.from as string | undefined;
      let conditions = v.conditions === undefined ? undefined : parseConditionList(v.conditions as string);
      const seeds = v.seeds === undefined ? undefined : intList("--seeds", v.seeds as string);
      const folds = v.folds === undefined ? undefined : intList("--folds", v.folds as string);
      if (seeds !== undefined && v.seed !== undefined) throw new ConfigError("give --seed or --seeds, not both");
      const opts: TableOptions = {
        ...(conditions === undefined ? {} : { conditions }),
        ...(seeds === undefined ? {} : { seeds }),
        ...(folds === undefined ? {} : { folds }),
        shareStage1: v.shareStage1 !== false,
        out: (v.out as string | undefined) ?? null,
        resume: v.resume === true,
        ...(v.jobs === undefined ? {} : { jobs: v.jobs as number }),
        ...(v.saveModels === true ? { saveModels: true } : {}),
      };
      if (from !== undefined) {
        const training = TABLE_TRAIN_FLAGS.map((r) => flagName(r)).filter((f) => v[attributeOf(f)] !== undefined);
        if (training.length > 0) {
          throw new ConfigError(`--from collects earlier results; training options (${training.join(", ")}) do not apply`);
        }
        if (opts.resume) throw new ConfigError("--resume applies to training, not to --from");
        if (opts.jobs !== undefined) throw new ConfigError("--jobs applies to training, not to --from");
        if (opts.saveModels === true) throw new ConfigError("--save-models applies to training, not to --from");
        opts.from = from;
      } else {
        const trainOpts = layeredOptions(v);
        opts.train = trainOpts;
        // A preset's table runs the preset's conditions (all seven) unless told otherwise.
        if (conditions === undefined && typeof v.preset === "string") {
          conditions = [...runPreset(v.preset).conditions];
          opts.conditions = conditions;
        }
      }
      const progress = quiet ? null : progressHooks(io, opts.jobs ?? 1);
      if (progress !== null) opts.hooks = progress.hooks;
      const result = await buildTable(opts).finally(() => progress?.stop());
      if (!quiet) {
        io.out(
          `${result.trained} run(s) trained, ${result.reused} read from results.json; ` +
            `time ${formatSeconds(result.totalSeconds)}`,
        );
        io.out("");
      }
      io.out(formatTable(result.table, format as TableFormat));
      if (!quiet && result.written.length > 0) io.out(`\ntables: ${result.written.join(", ")}`);
    });
}

/** Commander's attribute name of a flag: `--stage_epoch` → stage_epoch, `--data-dir` → dataDir. */
function attributeOf(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The table's progress: its plan and every epoch as lines, and a bar with the ETA of the whole
 * table over all its epochs (cli/progress.ts; plain lines with the ETA when not on a terminal).
 */
function progressHooks(io: Io, jobs: number): { hooks: NonNullable<TableOptions["hooks"]>; stop: () => void } {
  let epochs = 0;
  let perRun: EpochPlan = { stage1: 0, stage2: 0 };
  let sharedStage1 = true;
  let seedsShown = false;
  let foldsShown = false;
  let progress: Progress | null = null;
  // Several runs at once (--jobs): an epoch line says whose it is.
  const owner = (record: EpochRecord, config: TrainConfig, fold: number | null): string => {
    if (jobs === 1) return "";
    const parts = [
      record.stage === 2 || !sharedStage1 ? config.condition : "stage 1",
      ...(seedsShown ? [`seed ${config.seed}`] : []),
      ...(foldsShown && fold !== null ? [`fold ${fold}`] : []),
    ];
    return `[${parts.join(", ")}] `;
  };
  const line = (t: string): void => (progress === null ? io.out(t) : progress.line(t));
  const hooks: NonNullable<TableOptions["hooks"]> = {
    onStart: ({ config, conditions, seeds, folds, total, shared }) => {
      epochs = config.epochs;
      const stage1 = Math.min(config.stageEpoch, config.epochs);
      perRun = { stage1, stage2: config.epochs - stage1 };
      sharedStage1 = shared;
      const groups = seeds.length * (folds === null ? 1 : folds.length);
      line(formatConfig(config).split("\n").filter((l) => !/^\s+(condition|out)\s/.test(l)).join("\n"));
      // With --jobs, the stage-1 epochs of at most `groups` (shared) and the stage-2 epochs of up to
      // `jobs` runs go on at once.
      const at = (n: number) => Math.max(1, Math.min(jobs, n));
      progress = createProgress(
        io,
        { stage1: (shared ? groups : total) * perRun.stage1, stage2: total * perRun.stage2 },
        { label: `epochs of ${total} run(s)`, parallel: { stage1: at(shared ? groups : total), stage2: at(total) } },
      );
      seedsShown = seeds.length > 1;
      foldsShown = folds !== null && folds.length > 1;
      line(
        `table: conditions ${conditions.join(", ")}; seeds ${seeds.join(", ")}` +
          (folds === null ? "" : `; folds ${folds.join(", ")}`) +
          `; ${total} run(s); stage 1 ${shared ? "shared by the conditions of each seed" + (folds === null ? "" : " and fold") : "trained per condition"}`,
      );
    },
    onGroupStart: ({ seed, fold, conditions, shared, config }) => {
      if (shared && config.stageEpoch > 0) {
        line(
          `${where(seed, fold)}: stage 1 once (${span(1, Math.min(config.stageEpoch, config.epochs))}) for ${conditions.join(", ")}`,
        );
      }
    },
    onConditionStart: ({ condition, seed, fold, index, total, shared, config }: {
      condition: Condition; seed: number; fold: number | null; index: number; total: number; shared: boolean; config: TrainConfig;
    }) => {
      const what = shared
        ? config.stageEpoch >= config.epochs ? "no stage 2 (stage_epoch = epochs)" : `stage 2, ${span(config.stageEpoch + 1, config.epochs)}`
        : span(1, config.epochs);
      line(`[${index}/${total}] condition ${condition}, ${where(seed, fold)}: ${what}`);
    },
    onResume: ({ stage, dir, epochsDone }) => {
      progress?.drop(stage === 1 ? { stage1: epochsDone } : { stage2: epochsDone - perRun.stage1 });
      line(`  resuming from ${dir} after epoch ${epochsDone}`);
    },
    onEpoch: (record, config, run) =>
      progress!.epoch("  " + owner(record, config, run?.fold ?? null) + formatEpochLine(record, { epochs }), record.stage, record.seconds),
    onRunEnd: (run) => {
      if (run.resultsPath !== null) line(`  results: ${run.resultsPath}`);
    },
    onReuse: (run, index, total) => {
      progress?.drop(sharedStage1 ? { stage2: perRun.stage2 } : perRun);
      line(`[${index}/${total}] condition ${run.condition}, ${where(run.seed, run.fold)}: reused ${run.resultsPath}`);
    },
  };
  return { hooks, stop: () => progress?.stop() };
}

/** "epoch 3" or "epochs 1-200" (1-based, inclusive). */
function span(first: number, last: number): string {
  return first === last ? `epoch ${first}` : `epochs ${first}-${last}`;
}
