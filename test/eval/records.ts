/** Hand-built metric records and histories shared by the eval and report tests. */
import type { TrainConfig } from "../../src/config/types.js";
import type {
  ClassificationMetrics,
  EpochRecord,
  LossParts,
  Metrics,
  RegressionMetrics,
} from "../../src/eval/types.js";

export function reg(acc2: number, f1: number, extra: Partial<RegressionMetrics> = {}): RegressionMetrics {
  return {
    kind: "regression", acc2, f1, mae: 1, corr: 0.5, acc2Has0: acc2, f1Has0: f1, acc7: 0.3,
    n: 100, nNonZero: 95, ...extra,
  };
}

export function cls(wa: number, ua: number, f1 = wa): ClassificationMetrics {
  return { kind: "classification", wa, ua, f1, n: 50 };
}

export function loss(stage: 1 | 2, total = 1): LossParts {
  return {
    total, task: total / 2, taskA: 0.1, taskT: 0.2, taskV: 0.3,
    dcl: stage === 1 ? total / 4 : null, rec: stage === 2 ? total / 4 : null,
  };
}

/** 0-based epochs; stage 1 while epoch < stageEpoch, as the training loop writes them. */
export function record(epoch: number, stageEpoch: number, test: Metrics, val: Metrics | null): EpochRecord {
  const stage = epoch < stageEpoch ? 1 : 2;
  return { epoch, stage, trainLoss: loss(stage), val, test, seconds: 2 };
}

export const mosiConfig: TrainConfig = {
  dataset: "CMUMOSI", dataDir: "/data/CMUMOSI", labelFile: "/data/CMUMOSI/CMUMOSI_features_raw_2way.pkl",
  features: { audio: "a-feat", text: "t-feat", video: "v-feat" }, condition: "at",
  epochs: 400, stageEpoch: 200, lr: 2e-4, weightDecay: 1e-5, batchSize: 32, hidden: 128, heads: 4,
  dropout: 0.5, seed: 66, normalize: "zscore", valFraction: null, out: null,
};
