/**
 * `dssr eval`: the metrics (spec §2.6) of a saved model on one split of a dataset in the GCNet
 * layout, under one missing-modality condition (src/predict.ts's `evaluate`).
 */
import { Option, type Command } from "commander";
import { loadModel } from "../../checkpoint/model-file.js";
import { checkCondition } from "../../config/conditions.js";
import { holdOutValidation, iemocapSessionFolds, loadDataset, withSplits } from "../../data/dataset.js";
import { ConfigError } from "../../errors.js";
import type { Metrics } from "../../eval/types.js";
import { evaluate } from "../../predict.js";
import { dssrVersion, writeJsonAtomic } from "../../report/results.js";
import type { Io } from "../print.js";
import { addDataOptions, dataFilesFromFlags } from "./predict.js";

export const EVAL_FORMAT = "dssr-eval/1";

type Values = Record<string, string | number | boolean | undefined>;

export function registerEval(program: Command, io: Io): void {
  const cmd = program
    .command("eval")
    .description("evaluate a saved model (dssr train --save-model) on a split of a dataset under one missing-modality condition")
    .addHelpText(
      "after",
      "\nThe model's saved normalisation is applied to the features; batches are laid out as in training, so the\n" +
        "numbers match what training reported for the same weights (its last epoch).\n" +
        "Example: dssr eval --model runs/mosi-at/model --data-dir ~/GCNet/dataset/CMUMOSI --split test --condition at",
    )
    .addOption(new Option("--model <dir>", "model folder written by dssr train --save-model (required)"));
  addDataOptions(cmd)
    .addOption(new Option("--condition <c>", "available modalities: a, t, v, at, av, tv or atv (default: the model's)"))
    .addOption(new Option("--test_condition <c>", "same as --condition"))
    .addOption(new Option("--out <file>", "also write the metrics and per-utterance outputs here as JSON"))
    .action(async (v: Values) => {
      const modelDir = v.model as string | undefined;
      if (modelDir === undefined) throw new ConfigError("--model is required: a folder written by dssr train --save-model");
      if (v.dataDir === undefined) throw new ConfigError("--data-dir is required: the folder holding the label file and features/");
      const a = v.condition as string | undefined;
      const b = v.test_condition as string | undefined;
      if (a !== undefined && b !== undefined && a !== b) throw new ConfigError(`--condition '${a}' and --test_condition '${b}' disagree; give one`);
      const condition = a ?? b;
      const model = await loadModel(modelDir);
      const files = dataFilesFromFlags(v, model);
      const split = files.split ?? "test";
      let dataset = loadDataset({
        name: files.dataset,
        dataDir: files.dataDir,
        labelFile: files.labelFile,
        features: files.features,
      });
      if (files.fold !== undefined) {
        if (dataset.task !== "classification") throw new ConfigError(`--fold applies to IEMOCAP's leave-one-session-out protocol, not to ${files.dataset}`);
        const fold = iemocapSessionFolds(dataset).find((f) => f.session === files.fold);
        if (!fold) throw new ConfigError(`fold ${files.fold} is not a session of ${files.labelFile}`);
        dataset = withSplits(dataset, fold);
      }
      // IEMOCAP: the validation dialogues the model's run held out of training (config.valFraction,
      // per seed and fold); an older model.json without it held none out.
      if (dataset.task === "classification") {
        dataset = holdOutValidation(dataset, model.config.valFraction ?? 0, model.config.seed, files.fold ?? null);
      }
      const res = await evaluate(model, dataset, split, condition === undefined ? undefined : checkCondition(condition));
      io.out(
        `DSSR eval: ${dataset.name} ${split} split` + (files.fold === undefined ? "" : ` (fold ${files.fold})`) +
          `, condition ${res.condition}; model ${modelDir} (trained under ${model.condition}, ` +
          `weights after epoch ${model.info.epoch + 1}, stage ${model.stage})`,
      );
      io.out(formatMetrics(res.metrics));
      if (v.out !== undefined) {
        await writeJsonAtomic(v.out as string, {
          format: EVAL_FORMAT,
          dssrVersion: dssrVersion(),
          createdAt: new Date().toISOString(),
          model: { dir: modelDir, dataset: model.config.dataset, condition: model.condition, stage: model.stage },
          data: { labelFile: files.labelFile, features: files.paths, ...(files.fold === undefined ? {} : { fold: files.fold }) },
          split,
          condition: res.condition,
          metrics: res.metrics,
          utterances: res.utterances,
        });
        io.out(`written to ${v.out as string}`);
      }
    });
}

/** One line of metrics, rates in % with 2 decimals as the results block prints them. */
export function formatMetrics(m: Metrics): string {
  const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(2) : String(x).toLowerCase());
  const num = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x).toLowerCase());
  if (m.kind === "regression") {
    return (
      `Acc-2 ${pct(m.acc2)}  F1 ${pct(m.f1)}  MAE ${num(m.mae)}  Corr ${num(m.corr)}  Acc-7 ${pct(m.acc7)}  ` +
      `(non-zero labels: ${m.nNonZero} of ${m.n} utterances; with y ≥ 0 positive over all: Acc-2 ${pct(m.acc2Has0)} F1 ${pct(m.f1Has0)})`
    );
  }
  return `WA ${pct(m.wa)}  UA ${pct(m.ua)}  F1 ${pct(m.f1)}  (${m.n} utterances)`;
}
