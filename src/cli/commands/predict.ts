/**
 * `dssr predict`: a saved model (dssr train --save-model) on new utterances, from a JSON file or
 * from the GCNet pickle layout, each utterance with whatever modalities it has → predictions.json
 * (src/predict.ts). `dssr eval` (eval.ts) shares the data-folder options defined here.
 */
import { Option, type Command } from "commander";
import { loadModel, type LoadedModel } from "../../checkpoint/model-file.js";
import { checkCondition } from "../../config/conditions.js";
import { availableModalities, type FeatureNames } from "../../config/types.js";
import { checkDatasetName, defaultLabelFile, featurePaths } from "../../data/dataset.js";
import { MODALITIES, type DatasetName, type PerModality } from "../../data/types.js";
import { ConfigError } from "../../errors.js";
import { readPredictJson, readPredictPickles, splitVideoIds } from "../../predict-input.js";
import { predict, type PredictVideo, type SplitName, type VideoPrediction } from "../../predict.js";
import { dssrVersion, writeJsonAtomic } from "../../report/results.js";
import { integerArg } from "../flags.js";
import type { Io } from "../print.js";

export const PREDICTIONS_FORMAT = "dssr-predictions/1";

/** Flags of `dssr predict` and `dssr eval`, for main.ts's spelling normaliser. */
export const PREDICT_FLAGS = [
  "--model", "--input", "--data-dir", "--dataset", "--label-file", "--audio-feature", "--text-feature",
  "--video-feature", "--split", "--fold", "--modalities", "--as-given", "--batch_size", "--out", "--condition",
  "--test_condition", "--quiet",
] as const;

type Values = Record<string, string | number | boolean | undefined>;

/** The data-folder options both commands take. */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--data-dir <dir>", "folder holding the label file and features/<folder>/{audio,text,video}.pkl"))
    .addOption(new Option("--dataset <name>", "dataset name, for the label file's default name (default: the model's)"))
    .addOption(new Option("--label-file <file>", "label pickle (default: <data-dir>/<dataset>_features_raw_{2,4,6}way.pkl)"))
    .addOption(new Option("--audio-feature <folder>", "audio feature folder under <data-dir>/features (default: the model's)"))
    .addOption(new Option("--text-feature <folder>", "text feature folder (default: the model's)"))
    .addOption(new Option("--video-feature <folder>", "video feature folder (default: the model's)"))
    .addOption(new Option("--split <name>", "train, val or test: only this split's videos"))
    .addOption(new Option("--fold <session>", "IEMOCAP: the held-out session defining the split (default: the model's fold)").argParser(integerArg("--fold")));
}

export interface DataFiles {
  dataset: DatasetName;
  dataDir: string;
  labelFile: string;
  features: FeatureNames;
  paths: PerModality<string>;
  split: SplitName | undefined;
  fold: number | undefined;
}

/** Data-folder flags, with the model's dataset, feature folders and fold as defaults. */
export function dataFilesFromFlags(v: Values, model: LoadedModel): DataFiles {
  const dataDir = v.dataDir as string;
  const dataset = checkDatasetName((v.dataset as string | undefined) ?? model.config.dataset);
  const features: FeatureNames = {
    audio: (v.audioFeature as string | undefined) ?? model.config.features.audio,
    text: (v.textFeature as string | undefined) ?? model.config.features.text,
    video: (v.videoFeature as string | undefined) ?? model.config.features.video,
  };
  const split = v.split as string | undefined;
  if (split !== undefined && !["train", "val", "test"].includes(split)) {
    throw new ConfigError(`unknown --split '${split}'; expected train, val or test`);
  }
  return {
    dataset,
    dataDir,
    labelFile: (v.labelFile as string | undefined) ?? defaultLabelFile(dataset, dataDir),
    features,
    paths: featurePaths(dataDir, features),
    split: split as SplitName | undefined,
    fold: (v.fold as number | undefined) ?? model.info.fold,
  };
}

export function registerPredict(program: Command, io: Io): void {
  const cmd = program
    .command("predict")
    .description(
      "predict with a saved model (dssr train --save-model): each utterance with whichever modalities it has; " +
        "writes the prediction, the router weights α and the MHDW head weights per utterance",
    )
    .addHelpText(
      "after",
      "\nInput: --input FILE.json ({\"videos\": [{\"id\", \"utterances\": [{\"id\", \"a\"?, \"t\"?, \"v\"?}]}]}, raw feature vectors),\n" +
        "or --data-dir (the GCNet layout: a label file for the videos and up to three feature files; an utterance a\n" +
        "feature file lacks has that modality missing). Utterances are grouped per video by their modalities and each\n" +
        "group runs under its condition; by default only modalities the model was trained on are read (--as-given: all).\n" +
        "Examples:\n" +
        "  dssr predict --model runs/mosi-at/model --data-dir ~/GCNet/dataset/CMUMOSI --split test --out predictions.json\n" +
        "  dssr predict --model runs/mosi-at/model --input utterances.json --out predictions.json",
    )
    .addOption(new Option("--model <dir>", "model folder written by dssr train --save-model (required)"))
    .addOption(new Option("--input <file>", "JSON input file (instead of --data-dir)"));
  addDataOptions(cmd)
    .addOption(new Option("--modalities <c>", "read only these modalities of the input (a condition name such as at)"))
    .addOption(new Option("--as-given", "run every utterance under exactly the modalities it has, even ones the model was not trained on"))
    .addOption(new Option("--batch_size <n>", "videos per forward batch (default: the model's training batch size)").argParser(integerArg("--batch_size")))
    .addOption(new Option("--out <file>", "write the predictions here as JSON (required)"))
    .addOption(new Option("--quiet", "print nothing but warnings"))
    .action(async (v: Values) => {
      const modelDir = v.model as string | undefined;
      const out = v.out as string | undefined;
      if (modelDir === undefined) throw new ConfigError("--model is required: a folder written by dssr train --save-model");
      if (out === undefined) throw new ConfigError("--out is required: the file to write the predictions to (JSON)");
      const inputFile = v.input as string | undefined;
      if ((inputFile === undefined) === (v.dataDir === undefined)) {
        throw new ConfigError("give the input as --input FILE.json or as --data-dir DIR (the GCNet layout), one of them");
      }
      if (inputFile !== undefined) {
        const dataOnly = ["dataset", "labelFile", "audioFeature", "textFeature", "videoFeature", "split", "fold"].filter((k) => v[k] !== undefined);
        if (dataOnly.length > 0) throw new ConfigError(`--input takes no data-folder options (${dataOnly.map(flagOf).join(", ")})`);
      }
      const keep = v.modalities === undefined ? [...MODALITIES] : availableModalities(checkCondition(v.modalities as string));
      const model = await loadModel(modelDir);

      let videos: PredictVideo[];
      let input: Record<string, unknown>;
      let skipped: string[] = [];
      if (inputFile !== undefined) {
        videos = readPredictJson(inputFile);
        input = { file: inputFile };
      } else {
        const files = dataFilesFromFlags(v, model);
        const featureFiles: Partial<PerModality<string>> = {};
        for (const m of keep) featureFiles[m] = files.paths[m];
        const read = readPredictPickles({ labelFile: files.labelFile, featureFiles });
        const ids = files.split === undefined ? undefined : splitVideoIds(read.labels, files.split, files.fold);
        const byId = new Map(read.videos.map((x) => [x.id, x]));
        const chosen = ids === undefined ? read.videos : ids.map((id) => byId.get(id)!);
        const chosenIds = new Set(chosen.map((x) => x.id));
        videos = chosen;
        skipped = read.skipped.filter((s) => chosenIds.has(s.slice(0, s.lastIndexOf("/"))));
        input = {
          labelFile: files.labelFile,
          featureFiles,
          ...(files.split === undefined ? {} : { split: files.split }),
          ...(files.fold === undefined ? {} : { fold: files.fold }),
        };
      }
      if (v.modalities !== undefined) {
        videos = videos.map((video) => ({
          id: video.id,
          utterances: video.utterances
            .map((u) => ({ id: u.id, features: Object.fromEntries(keep.filter((m) => u.features[m] !== undefined).map((m) => [m, u.features[m]])) }))
            .filter((u) => {
              if (Object.keys(u.features).length > 0) return true;
              skipped.push(`${video.id}/${u.id}`);
              return false;
            }),
        }));
      }
      const res = await predict(model, videos, {
        modalities: v.asGiven === true ? "as-given" : "restrict",
        ...(v.batch_size === undefined ? {} : { batchSize: v.batch_size as number }),
        source: inputFile ?? (input.labelFile as string),
      });
      const warnings = [...res.warnings];
      if (skipped.length > 0) {
        warnings.unshift(
          `${skipped.length} utterance(s) have none of the modalities read and were not predicted ` +
            `(first: ${skipped.slice(0, 3).join(", ")})`,
        );
      }
      const doc = {
        format: PREDICTIONS_FORMAT,
        dssrVersion: dssrVersion(),
        createdAt: new Date().toISOString(),
        model: {
          dir: modelDir,
          dataset: model.config.dataset,
          task: model.task,
          condition: model.condition,
          stage: model.stage,
          ...(model.task === "classification" ? { classes: model.shape.nClasses } : {}),
        },
        input,
        policy: v.asGiven === true ? "as-given" : "restrict",
        warnings,
        skipped,
        videos: res.videos,
      };
      await writeJsonAtomic(out, doc);
      for (const w of warnings) io.out(`warning: ${w}`);
      if (v.quiet !== true) io.out(summary(res.videos, out));
    });
}

function flagOf(attr: string): string {
  return "--" + attr.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** "predicted 120 utterances in 12 videos (atv 118, at 2) → predictions.json" */
function summary(videos: readonly VideoPrediction[], out: string): string {
  const counts = new Map<string, number>();
  let n = 0;
  for (const video of videos) {
    for (const u of video.utterances) {
      counts.set(u.condition, (counts.get(u.condition) ?? 0) + 1);
      n++;
    }
  }
  const by = [...counts].map(([c, k]) => `${c} ${k}`).join(", ");
  return `predicted ${n} utterance(s) in ${videos.length} video(s)${by === "" ? "" : ` (conditions: ${by})`}; written to ${out}`;
}
