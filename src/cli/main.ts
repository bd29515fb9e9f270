/**
 * The command line: `dssr train`, `dssr demo`, `dssr table`, `dssr predict`, `dssr eval`,
 * `dssr plot` and `dssr convert`, each a thin layer that turns flags into typed options and calls a
 * library function (runTrain, runDemo, buildTable, predict, evaluate, plotTrainingCurves /
 * plotCaseAnalysis, convertNpyFolder). Returns the exit code; a DssrError
 * thrown by a command propagates to bin.ts, which prints it as one line.
 */
import { Command, CommanderError } from "commander";
import { dssrVersion } from "../report/results.js";
import { CONVERT_FLAGS, registerConvert } from "./commands/convert.js";
import { DEMO_FLAGS, registerDemo } from "./commands/demo.js";
import { registerEval } from "./commands/eval.js";
import { PREDICT_FLAGS, registerPredict } from "./commands/predict.js";
import { PLOT_FLAGS, registerPlot } from "./commands/plot.js";
import { registerTable, TABLE_FLAGS } from "./commands/table.js";
import { registerTrain } from "./commands/train.js";
import { flagName, normalizeFlagSpelling, TRAIN_FLAGS } from "./flags.js";
import { processIo, type Io } from "./print.js";

export function buildProgram(io: Io = processIo): Command {
  const program = new Command("dssr")
    .description("DSSR: multimodal emotion recognition under missing modalities (ICASSP 2026), in TypeScript")
    .version(dssrVersion())
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      // Commander's own errors (unknown option, missing value) as one `dssr: …` line, like ours.
      outputError: (s, write) => write(`dssr: ${s.replace(/^error: /, "")}`),
    });
  registerTrain(program, io);
  registerDemo(program, io);
  registerPredict(program, io);
  registerEval(program, io);
  registerTable(program, io);
  registerPlot(program, io);
  registerConvert(program, io);
  return program;
}

/** Parse `argv` (process.argv layout: node, script, args…) and run the command. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const known = [...TRAIN_FLAGS.map(flagName), ...DEMO_FLAGS, ...PREDICT_FLAGS, ...TABLE_FLAGS, ...CONVERT_FLAGS, ...PLOT_FLAGS];
  const args = [argv[0], argv[1], ...normalizeFlagSpelling(argv.slice(2), known)];
  try {
    await buildProgram(io).parseAsync(args);
    return 0;
  } catch (e) {
    // Help, version, or a usage error commander has already printed.
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
}
