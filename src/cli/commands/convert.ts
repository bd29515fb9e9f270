/** `dssr convert`: a GCNet/MoMKE `.npy` feature folder → a feature pickle (src/data/convert.ts). */
import { Option, type Command } from "commander";
import { convertNpyFolder } from "../../data/convert.js";
import { checkDatasetName, defaultLabelFile } from "../../data/dataset.js";
import { ConfigError } from "../../errors.js";
import type { Io } from "../print.js";

/** Flags of `dssr convert`, for main.ts's spelling normaliser. */
export const CONVERT_FLAGS = ["--from", "--to", "--label-file", "--dataset", "--data-dir", "--quiet"] as const;

type Values = Record<string, string | boolean | undefined>;

export function registerConvert(program: Command, io: Io): void {
  program
    .command("convert")
    .description("convert a GCNet/MoMKE .npy feature folder (one <utterance id>.npy per utterance) to the pickle layout (name2feats, dim)")
    .addHelpText(
      "after",
      "\nThe folder holds <utt>.npy (a vector, or a time × dim matrix that is mean-pooled) or a folder <utt>/ of .npy\n" +
        "files pooled together (GCNet's faces; for IEMOCAP a file name with F is the F slot's, with M the M slot's,\n" +
        "e.g. <utt>/compress_F.npy). With a label file every utterance it names must be there, in its order; for\n" +
        "IEMOCAP it is required, since a plain <utt>.npy fills the speaker's slot. Without one, every entry is converted.\n" +
        "The pickle is written atomically. dssr train reads such a folder directly too, when it has no <modality>.pkl.\n" +
        "Examples:\n" +
        "  dssr convert --from ~/GCNet/dataset/IEMOCAP/features/manet_UTT --to features/manet_UTT/video.pkl \\\n" +
        "    --label-file ~/GCNet/dataset/IEMOCAP/IEMOCAP_features_raw_4way.pkl\n" +
        "  dssr convert --from features/wav2vec-large-c-UTT --to audio.pkl --dataset CMUMOSI --data-dir ~/GCNet/dataset/CMUMOSI",
    )
    .addOption(new Option("--from <folder>", "the .npy feature folder (required)"))
    .addOption(new Option("--to <file>", "the feature pickle to write, e.g. <data-dir>/features/<name>/audio.pkl (required)"))
    .addOption(new Option("--label-file <file>", "label pickle naming the utterances (and IEMOCAP's speakers)"))
    .addOption(new Option("--dataset <name>", "CMUMOSI, CMUMOSEI, IEMOCAPFour or IEMOCAPSix: checks the label file's kind; with --data-dir, its default label file"))
    .addOption(new Option("--data-dir <dir>", "folder holding the label file, for --dataset's default name <dataset>_features_raw_{2,4,6}way.pkl"))
    .addOption(new Option("--quiet", "print nothing on success"))
    .action((v: Values) => {
      const from = v.from as string | undefined;
      const to = v.to as string | undefined;
      if (from === undefined) throw new ConfigError("--from is required: the folder of .npy files to convert");
      if (to === undefined) throw new ConfigError("--to is required: the feature pickle to write");
      const dataset = v.dataset === undefined ? undefined : checkDatasetName(v.dataset as string);
      const dataDir = v.dataDir as string | undefined;
      if (dataDir !== undefined && dataset === undefined && v.labelFile === undefined) {
        throw new ConfigError("--data-dir names the label file's folder: give --dataset with it (or --label-file instead)");
      }
      const labelFile = (v.labelFile as string | undefined) ??
        (dataset !== undefined && dataDir !== undefined ? defaultLabelFile(dataset, dataDir) : undefined);
      const r = convertNpyFolder({ from, to, labelFile, dataset });
      if (v.quiet === true) return;
      io.out(
        `converted ${r.utterances} utterances, dim ${r.dim}` +
          (r.speakerSlots ? ", as {'F': vector, 'M': vector}" : "") +
          (r.labelFile === null ? " (every entry of the folder; no label file)" : ` (utterances of ${r.labelFile})`) +
          `: ${r.from} → ${r.to}`,
      );
    });
}
