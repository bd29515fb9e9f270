/** `dssr train`: the release's run-script flags → TrainConfig → runTrain (src/run.ts). */
import { Option, type Command } from "commander";
import { checkTrainInputs, resolveTrainConfig, type TrainOptions } from "../../config/resolve.js";
import { formatEpochLine, formatResultsBlock } from "../../report/format.js";
import { defaultCheckpointDir, runTrain } from "../../run.js";
import { ConfigError } from "../../errors.js";
import { findCheckpoint } from "../../checkpoint/training-state.js";
import { configDifferences } from "../../config/identity.js";
import type { TrainConfig } from "../../config/types.js";
import { mergeOptionLayers, presetLayer, readConfigFile, type OptionLayer } from "../../config/layers.js";
import { flagName, integerArg, numberArg, TRAIN_FLAGS } from "../flags.js";
import { formatConfig, formatDataLine, formatSeconds, type Io } from "../print.js";
import { createProgress } from "../progress.js";

export type Values = Record<string, string | number | boolean | undefined>;

export function registerTrain(program: Command, io: Io): void {
  const cmd = program
    .command("train")
    .description("train and evaluate DSSR on one dataset under one missing-modality condition")
    .addHelpText(
      "after",
      "\nFlags spelled with _ or - are both accepted (--stage_epoch, --stage-epoch).\n" +
        "Options layer as: dataset defaults < --preset < --config FILE.json < flags.\n" +
        "Example: dssr train --dataset CMUMOSI --data-dir ~/GCNet/dataset/CMUMOSI --test_condition at --out runs/mosi-at\n" +
        "         dssr train --preset mosi --data-dir ~/GCNet/dataset/CMUMOSI --test_condition at",
    );
  for (const row of TRAIN_FLAGS) {
    const opt = new Option(row.flag, row.help);
    const name = flagName(row);
    if (row.kind === "int") opt.argParser(integerArg(name));
    if (row.kind === "number") opt.argParser(numberArg(name));
    cmd.addOption(opt);
  }
  cmd.action(async (values: Values) => {
    const { config, fold, quiet, saveModel, resume, checkpoints } = trainOptionsFromFlags(values);
    checkTrainInputs(config); // before printing anything: a typo'd path fails in milliseconds
    if (!quiet) io.out(formatConfig(config));
    const stage1 = Math.min(config.stageEpoch, config.epochs);
    const progress = createProgress(io, { stage1, stage2: config.epochs - stage1 });
    const { result, resultsPath, modelDir } = await runTrain(config, {
      ...(fold === undefined ? {} : { fold }),
      ...(saveModel === undefined ? {} : { saveModel }),
      ...(checkpoints ? {} : { checkpoints: false }),
      resume,
      hooks: {
        onResume: ({ stage, dir, epochsDone }) => {
          progress.line(`resuming from ${dir} after epoch ${epochsDone}`);
          progress.drop(stage === 1 ? { stage1: epochsDone } : { stage2: epochsDone - stage1 });
        },
        ...(quiet
          ? {}
          : {
              onStart: ({ dataset, batchShape }) => progress.line(formatDataLine(dataset, batchShape)),
              onEpoch: (record) => progress.epoch(formatEpochLine(record, { epochs: config.epochs }), record.stage, record.seconds),
            }),
      },
    }).finally(() => progress.stop());
    io.out(formatResultsBlock(result.selections, config));
    io.out(
      `time: ${formatSeconds(result.totalSeconds)} (of which compiling ${formatSeconds(result.compileSeconds)})`,
    );
    io.out(resultsPath === null ? "results: not written (no --out)" : `results: ${resultsPath}`);
    if (modelDir !== null) io.out(`model: ${modelDir} (the weights after epoch ${config.epochs}; dssr predict / dssr eval --model ${modelDir})`);
  });
}

/** The training options the flags set (unset flags are undefined): the top layer of layers.ts. */
export function flagOptions(v: Values): Partial<TrainOptions> {
  const str = (k: string) => v[k] as string | undefined;
  const num = (k: string) => v[k] as number | undefined; // already parsed by integerArg/numberArg
  const a = str("test_condition");
  const b = str("condition");
  if (a !== undefined && b !== undefined && a !== b) {
    throw new ConfigError(`--test_condition '${a}' and --condition '${b}' disagree; give one`);
  }
  const features: TrainOptions["features"] = {};
  if (str("audioFeature") !== undefined) features.audio = str("audioFeature");
  if (str("textFeature") !== undefined) features.text = str("textFeature");
  if (str("videoFeature") !== undefined) features.video = str("videoFeature");
  return {
    dataset: str("dataset"),
    dataDir: str("dataDir"),
    labelFile: str("labelFile"),
    features,
    condition: a ?? b,
    epochs: num("epochs"),
    stageEpoch: num("stage_epoch"),
    lr: num("lr"),
    batchSize: num("batch_size"),
    hidden: num("D_e"),
    heads: num("heads"),
    dropout: num("drop_rate"),
    weightDecay: num("weightDecay"),
    seed: num("seed"),
    normalize: str("normalize"),
    valFraction: num("valFraction"),
    out: str("out"),
  };
}

/** dataset defaults < `--preset` < `--config FILE.json` < flags (config/layers.ts), merged. */
export function layeredOptions(v: Values): TrainOptions {
  const layers: OptionLayer[] = [];
  if (typeof v.preset === "string") layers.push(presetLayer(v.preset));
  if (typeof v.config === "string") layers.push(readConfigFile(v.config));
  layers.push({ source: "the command line", options: flagOptions(v) });
  const merged = mergeOptionLayers(layers);
  return { ...merged, dataset: merged.dataset ?? "", dataDir: merged.dataDir ?? "" };
}

/** Commander's parsed values → a resolved config (validated) plus the command-only settings. */
export function trainOptionsFromFlags(v: Values) {
  const command = {
    quiet: v.quiet === true,
    saveModel: v.saveModel as string | undefined,
    checkpoints: v.checkpoints !== false,
  };
  if (typeof v.resume === "string") return { ...resumeOptions(v, v.resume), ...command, resume: true };
  const opts = layeredOptions(v);
  return {
    config: resolveTrainConfig({ ...opts, out: opts.out ?? null }),
    fold: v.fold as number | undefined,
    ...command,
    resume: false,
  };
}

/**
 * `--resume DIR`: the settings of the run whose checkpoints are in DIR/checkpoints, with the flags
 * given on top; a flag that changes the run (another lr, seed, condition…) is an error.
 */
function resumeOptions(v: Values, dir: string): { config: TrainConfig; fold: number | undefined } {
  const root = defaultCheckpointDir(dir);
  const found = findCheckpoint(root);
  if (found === null) throw new ConfigError(`--resume: no checkpoint in ${root} (is ${dir} the --out folder of a run?)`, root);
  const layers: OptionLayer[] = [
    { source: `the checkpoint in ${root}`, options: { ...found.config, features: { ...found.config.features } } },
    ...(typeof v.config === "string" ? [readConfigFile(v.config)] : []),
    { source: "the command line", options: flagOptions(v) },
  ];
  if (typeof v.preset === "string") throw new ConfigError("--resume takes the run's settings from its checkpoint; drop --preset");
  const merged = mergeOptionLayers(layers);
  const config = resolveTrainConfig({ ...merged, dataset: merged.dataset ?? "", dataDir: merged.dataDir ?? "", out: merged.out ?? dir });
  const differ = configDifferences(found.config, config, found.stage === 1 ? ["condition"] : []);
  const fold = (v.fold as number | undefined) ?? found.fold ?? undefined;
  if ((found.fold ?? undefined) !== fold) differ.push(`fold ${found.fold ?? "none"} there, ${fold ?? "none"} now`);
  if (differ.length > 0) {
    throw new ConfigError(`--resume: the flags change the run in ${root} (${differ.join("; ")}); drop them or start a new run`, root);
  }
  return { config, fold };
}
