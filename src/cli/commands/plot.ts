/**
 * `dssr plot curves` and `dssr plot case`: figures as SVG + PNG (src/plot/).
 *   curves: a results.json (dssr train --out, dssr table --out) → training curves
 *   case:   a saved model (or a table's, one per condition) + a data folder + utterance ids → α and w̄ per condition
 */
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Option, type Command } from "commander";
import { loadModel, MODEL_JSON, type LoadedModel } from "../../checkpoint/model-file.js";
import { parseConditionList } from "../../config/conditions.js";
import { CONDITIONS, type Condition } from "../../config/types.js";
import { ConfigError, FileError } from "../../errors.js";
import { readPredictPickles } from "../../predict-input.js";
import { caseLabels, plotCaseAnalysis, type CaseModels } from "../../plot/case.js";
import { plotTrainingCurves } from "../../plot/curves.js";
import { figurePaths, writeFigure, type Figure } from "../../plot/render.js";
import { numberArg } from "../flags.js";
import type { Io } from "../print.js";
import { addDataOptions, dataFilesFromFlags } from "./predict.js";

/** Flags of `dssr plot …` (for main.ts's spelling normaliser). */
export const PLOT_FLAGS = ["--out", "--scale", "--model", "--models", "--utterances", "--conditions", "--as-given", "--quiet"] as const;

type Values = Record<string, string | number | boolean | undefined>;

const RESULTS_FILE = "results.json";

/** A results.json path, or a run folder holding one. */
export function resultsPath(arg: string): string {
  if (!existsSync(arg)) throw new FileError(`results file not found: ${arg} (give a results.json or the --out folder of a run)`, arg);
  if (statSync(arg).isDirectory()) {
    const p = join(arg, RESULTS_FILE);
    if (!existsSync(p)) throw new FileError(`folder ${arg} has no ${RESULTS_FILE} (give a results.json or the --out folder of a run)`, p);
    return p;
  }
  return arg;
}

function outPaths(out: string, name: string): { svg: string; png: string } {
  const isDir = existsSync(out) && statSync(out).isDirectory();
  return figurePaths(out, name, isDir);
}

function written(io: Io, v: Values, paths: { svg: string; png: string }, f: Figure): void {
  if (v.quiet === true) return;
  io.out(`written ${paths.svg} and ${paths.png} (${f.width}×${f.height} px; PNG ${Math.round(f.width * f.scale)}×${Math.round(f.height * f.scale)})`);
}

const scaleOption = () =>
  new Option("--scale <x>", "PNG pixels per SVG pixel (default 2)").argParser((raw) => {
    const x = numberArg("--scale")(raw);
    if (!(x > 0 && x <= 8)) throw new ConfigError(`--scale must be in (0, 8], got ${raw}`);
    return x;
  });

export function registerPlot(program: Command, io: Io): void {
  const plot = program
    .command("plot")
    .description("figures as SVG and PNG: training curves of a run, or a case analysis (α and MHDW w̄) of a saved model");

  plot
    .command("curves")
    .description(
      "training curves of a run: the loss and its parts per epoch, test and validation metrics per epoch " +
        "(Acc-2/F1 for MOSI/MOSEI, WA/UA for IEMOCAP), the stage switch and the selected epochs",
    )
    .argument("<results>", "a results.json (dssr train --out, dssr table --out) or the folder holding it")
    .addOption(new Option("--out <path>", "file stem (writes <stem>.svg and <stem>.png) or folder (default: beside the results file, training-curves.svg/.png)"))
    .addOption(scaleOption())
    .addOption(new Option("--quiet", "print nothing"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  dssr plot curves runs/mosi-atv --out runs/plots/mosi-atv-curves\n" +
        "  dssr plot curves runs/mosi-table/at/results.json --out runs/plots/",
    )
    .action(async (results: string, v: Values) => {
      const file = resultsPath(results);
      const fig = await plotTrainingCurves(file, { ...(v.scale === undefined ? {} : { scale: v.scale as number }) });
      const out = (v.out as string | undefined) ?? join(dirname(file), "training-curves");
      const paths = outPaths(out, basename(dirname(file)) === "." ? "training-curves" : `training-curves-${basename(dirname(file))}`);
      await writeFigure(paths, fig);
      written(io, v, paths, fig);
    });

  const cmd = plot
    .command("case")
    .description(
      "case analysis of a saved model (dssr train --save-model): for chosen utterances, under each condition, " +
        "the router weights α over a/t/v and the MHDW head weights w̄ of each modality, with label and prediction",
    )
    .addOption(new Option("--model <dir>", "model folder written by dssr train --save-model: one model under every condition"))
    .addOption(new Option("--models <dir>", "instead: a dssr table --save-models folder, each condition's column from its own model (<dir>/<condition>/model), as the paper trains them"));
  addDataOptions(cmd)
    .addOption(new Option("--utterances <ids>", "comma-separated utterance ids (or video/utterance), one row each (required)"))
    .addOption(new Option("--conditions <list>", "comma-separated conditions, one column each (default: a,t,v,at,av,tv,atv)"))
    .addOption(new Option("--as-given", "run every condition as given, even modalities the model was not trained on (default: as dssr predict)"))
    .addOption(new Option("--out <path>", "file stem (writes <stem>.svg and <stem>.png) or folder (case-analysis.svg/.png) (required)"))
    .addOption(scaleOption())
    .addOption(new Option("--quiet", "print nothing but warnings"))
    .addHelpText(
      "after",
      "\nEach condition runs predict on the whole videos of the chosen utterances, given only that condition's modalities\n" +
        "(the generation module fills the others, drawn pale in the bars).\n" +
        "Example:\n" +
        "  dssr plot case --model runs/mosi-atv-model --data-dir ~/GCNet/dataset/CMUMOSI \\\n" +
        "    --utterances 03bSnISJMiM_1,03bSnISJMiM_5 --conditions a,t,v,at,atv --out runs/plots/case",
    )
    .action(async (v: Values) => {
      const modelDir = v.model as string | undefined;
      const tableDir = v.models as string | undefined;
      if ((modelDir === undefined) === (tableDir === undefined)) {
        throw new ConfigError("give exactly one of --model (a dssr train --save-model folder) and --models (a dssr table --save-models folder)");
      }
      if (v.dataDir === undefined) throw new ConfigError("--data-dir is required: the folder holding the label file and features/");
      if (v.utterances === undefined) throw new ConfigError("--utterances is required: comma-separated utterance ids");
      if (v.out === undefined) throw new ConfigError("--out is required: a file stem or a folder for the .svg and .png");
      const ids = (v.utterances as string).split(",").map((s) => s.trim()).filter((s) => s !== "");
      const conditions = v.conditions === undefined ? undefined : parseConditionList(v.conditions as string);
      let models: CaseModels;
      let model: LoadedModel;
      let from: string;
      if (tableDir !== undefined) {
        const perCondition = new Map<Condition, LoadedModel>();
        const wanted = conditions ?? CONDITIONS;
        const missing = wanted.filter((c) => !existsSync(join(tableDir, c, "model", MODEL_JSON)));
        if (missing.length > 0) {
          const dir = join(tableDir, missing[0], "model");
          const present = CONDITIONS.filter((c) => existsSync(join(tableDir, c, "model", MODEL_JSON)));
          throw new FileError(
            `--models: no saved model for condition ${missing.join(", ")} at ${dir}${missing.length > 1 ? " …" : ""} ` +
              `(dssr table --save-models writes one per run)` +
              (present.length > 0 ? `; models there: ${present.join(", ")} (choose with --conditions)` : ""),
            dir,
          );
        }
        for (const c of wanted) perCondition.set(c, await loadModel(join(tableDir, c, "model")));
        models = perCondition;
        model = perCondition.values().next().value!;
        from = `models ${tableDir}/<condition>/model (weights after epoch ${model.info.epoch + 1})`;
      } else {
        model = await loadModel(modelDir!);
        models = model;
        from = `model ${modelDir} (weights after epoch ${model.info.epoch + 1})`;
      }
      const files = dataFilesFromFlags(v, model);
      const read = readPredictPickles({ labelFile: files.labelFile, featureFiles: files.paths });
      const { labels, transcripts } = caseLabels(read.labels);
      const fig = await plotCaseAnalysis(models, read.videos, {
        utterances: ids,
        ...(conditions === undefined ? {} : { conditions }),
        labels,
        transcripts,
        modalities: v.asGiven === true ? "as-given" : "restrict",
        subtitle: `${from}; data ${files.dataDir}`,
        ...(v.scale === undefined ? {} : { scale: v.scale as number }),
      });
      const paths = outPaths(v.out as string, "case-analysis");
      await writeFigure(paths, fig);
      for (const w of fig.data.warnings) io.out(`warning: ${w}`);
      written(io, v, paths, fig);
    });
}
