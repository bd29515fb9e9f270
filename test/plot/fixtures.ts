/** Hand-built results documents for the plot tests: known values at every epoch. */
import type { EpochRecord, Metrics } from "../../src/eval/types.js";
import { selectEpochs } from "../../src/eval/selection.js";
import { dssrVersion, RESULTS_FORMAT, summarizeTimings, type ResultsJson } from "../../src/report/results.js";
import { cls, mosiConfig, reg } from "../eval/records.js";

/** `epochs` epochs, stage 1 while epoch < stageEpoch; losses fall, metrics rise and wobble. */
export function curvesResults(opts: { epochs: number; stageEpoch: number; task?: "regression" | "classification"; val?: boolean }): ResultsJson {
  const { epochs, stageEpoch } = opts;
  const classification = opts.task === "classification";
  const metric = (e: number, shift: number): Metrics => {
    const a = 0.55 + 0.25 * (1 - Math.exp(-e / 4)) + 0.02 * Math.sin(e + shift);
    return classification ? cls(a, a - 0.03) : reg(a, a - 0.01);
  };
  const history: EpochRecord[] = Array.from({ length: epochs }, (_, epoch) => {
    const stage = epoch < stageEpoch ? 1 : 2;
    const total = 10 * Math.exp(-epoch / 6) + 2;
    return {
      epoch,
      stage,
      trainLoss: {
        total, task: total / 4, taskA: total / 5, taskT: total / 7, taskV: total / 6,
        dcl: stage === 1 ? 0.3 - 0.01 * epoch : null, rec: stage === 2 ? 0.02 : null,
      },
      val: opts.val === false ? null : metric(epoch, 1),
      test: metric(epoch, 0),
      seconds: 1,
    };
  });
  const config = { ...mosiConfig, epochs, stageEpoch, condition: "at" as const, seed: 67 };
  return {
    format: RESULTS_FORMAT,
    dssrVersion: dssrVersion(),
    createdAt: "2026-01-01T00:00:00.000Z",
    config: classification ? { ...config, dataset: "IEMOCAPFour" } : config,
    dataset: {
      name: classification ? "IEMOCAPFour" : "CMUMOSI", task: classification ? "classification" : "regression",
      nClasses: classification ? 4 : 1, dims: { a: 3, t: 4, v: 5 },
      videos: { train: 2, val: 1, test: 1 }, utterances: { train: 5, val: 1, test: 2 },
      sources: { labels: "l.pkl", a: "A", t: "T", v: "V" },
    },
    history,
    selections: selectEpochs(history),
    timings: summarizeTimings(history, 7.5),
    peakRssMB: 100,
  };
}
