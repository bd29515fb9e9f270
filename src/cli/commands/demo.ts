/** `dssr demo`: DSSR on a small synthetic dataset under several conditions → runDemo (src/demo.ts). */
import { Option, type Command } from "commander";
import { parseConditionList } from "../../config/conditions.js";
import { DEMO_DEFAULTS, runDemo, type DemoOptions } from "../../demo.js";
import { ConfigError } from "../../errors.js";
import { SELECTION_RULES, type SelectionRule } from "../../eval/types.js";
import { formatEpochLine } from "../../report/format.js";
import { integerArg, numberArg } from "../flags.js";
import { formatSeconds, type Io } from "../print.js";
import { createProgress, type Progress } from "../progress.js";

export const DEMO_FLAGS = [
  "--conditions", "--videos", "--epochs", "--stage_epoch", "--batch_size", "--D_e", "--lr", "--seed",
  "--data-seed", "--data-dir", "--rule", "--out", "--quiet",
] as const;

export function registerDemo(program: Command, io: Io): void {
  const d = DEMO_DEFAULTS;
  program
    .command("demo")
    .description(
      "write a small synthetic dataset, train DSSR on it under several missing-modality conditions, " +
        "and print the condition table",
    )
    .addOption(new Option("--conditions <list>", `comma-separated conditions, one model each (default ${d.conditions.join(",")})`))
    .addOption(new Option("--videos <n>", `synthetic videos, about 10 utterances each (default ${d.videos})`).argParser(integerArg("--videos")))
    .addOption(new Option("--epochs <n>", `epochs per condition (default ${d.epochs})`).argParser(integerArg("--epochs")))
    .addOption(new Option("--stage_epoch <n>", `epochs before the subtle stage (default ${d.stageEpoch}; half of --epochs when only that is given)`).argParser(integerArg("--stage_epoch")))
    .addOption(new Option("--batch_size <n>", `videos per batch (default ${d.batchSize})`).argParser(integerArg("--batch_size")))
    .addOption(new Option("--D_e <n>", `hidden size (default ${d.hidden})`).argParser(integerArg("--D_e")))
    .addOption(new Option("--lr <x>", `learning rate (default ${d.lr})`).argParser(numberArg("--lr")))
    .addOption(new Option("--seed <n>", `training seed (default ${d.seed})`).argParser(integerArg("--seed")))
    .addOption(new Option("--data-seed <n>", `seed of the synthetic data (default ${d.dataSeed})`).argParser(integerArg("--data-seed")))
    .addOption(new Option("--data-dir <dir>", "write the synthetic dataset here and keep it (default: a temporary folder, removed)"))
    .addOption(new Option("--rule <rule>", `selection rule of the table: ${SELECTION_RULES.join(", ")} (default ${d.rule})`))
    .addOption(new Option("--out <dir>", "write <dir>/<condition>/results.json and <dir>/table.md"))
    .addOption(new Option("--quiet", "print only the table, not the per-epoch lines"))
    .action(async (v: Record<string, string | number | boolean | undefined>) => {
      const quiet = v.quiet === true;
      const rule = v.rule as string | undefined;
      if (rule !== undefined && !(SELECTION_RULES as readonly string[]).includes(rule)) {
        throw new ConfigError(`unknown --rule '${rule}'; expected one of ${SELECTION_RULES.join(", ")}`);
      }
      let progress: Progress | null = null;
      const opts: DemoOptions = {
        dataDir: (v.dataDir as string | undefined) ?? null,
        videos: v.videos as number | undefined,
        conditions: v.conditions === undefined ? undefined : parseConditionList(v.conditions as string),
        epochs: v.epochs as number | undefined,
        stageEpoch: v.stage_epoch as number | undefined,
        batchSize: v.batch_size as number | undefined,
        hidden: v.D_e as number | undefined,
        lr: v.lr as number | undefined,
        seed: v.seed as number | undefined,
        dataSeed: v.dataSeed as number | undefined,
        rule: rule as SelectionRule | undefined,
        out: (v.out as string | undefined) ?? null,
        hooks: {
          onData: (data, dir) =>
            io.out(
              `synthetic CMU-MOSI-like data: ${data.videos} videos, ${data.utterances} utterances ` +
                `(train/val/test videos ${data.splits.train.length}/${data.splits.val.length}/${data.splits.test.length}), ` +
                `dims a ${data.dims.a} t ${data.dims.t} v ${data.dims.v}, in ${dir}\n` +
                `stage 1 (salient, all modalities): trained once, shared by every condition`,
            ),
          onConditionStart: (c, i, n, config) =>
            (progress?.line ?? io.out)(
              `[${i + 1}/${n}] condition ${c}: stage 2 for epochs ${config.stageEpoch + 1}-${config.epochs} from the shared stage 1, ` +
                `batch ${config.batchSize}, D_e ${config.hidden}, lr ${config.lr}`,
            ),
          ...(quiet
            ? {}
            : {
                onEpoch: (r, config) => {
                  // The plan is known from the first epoch's config: stage 1 once, stage 2 per condition.
                  const n = new Set(opts.conditions ?? DEMO_DEFAULTS.conditions).size;
                  const stage1 = Math.min(config.stageEpoch, config.epochs);
                  progress ??= createProgress(io, { stage1, stage2: n * (config.epochs - stage1) }, { label: `epochs of ${n} condition(s)` });
                  progress.epoch("  " + formatEpochLine(r, { epochs: config.epochs }), r.stage, r.seconds);
                },
              }),
        },
      };
      const result = await runDemo(opts).finally(() => progress?.stop());
      io.out("");
      io.out(result.table);
      io.out("");
      io.out(
        "Synthetic data: text carries the strongest signal, audio a weaker one, video the weakest (plus an " +
          "audio·video interaction); a short demo run shows the ordering, not the paper's numbers.",
      );
      io.out(`total time: ${formatSeconds(result.totalSeconds)}`);
      if (opts.out) io.out(`results: ${opts.out}/<condition>/results.json, table: ${opts.out}/table.md`);
    });
}
