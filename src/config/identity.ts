/**
 * Which settings make two runs the same run: what a reused results.json (`dssr table --resume`)
 * or a training checkpoint (`--resume`) must share with the run it stands for. Output folders,
 * the data folder's spelling and the condition (for shared stage-1 state) are not part of it.
 */
import type { TrainConfig } from "./types.js";

export const RUN_IDENTITY_KEYS: readonly (keyof TrainConfig)[] = [
  "dataset", "labelFile", "features", "condition", "epochs", "stageEpoch", "lr", "weightDecay", "batchSize",
  "hidden", "heads", "dropout", "seed", "normalize",
];

/** `key there, now` descriptions of the identity settings on which `there` and `now` differ. */
export function configDifferences(
  there: Partial<TrainConfig>,
  now: TrainConfig,
  ignore: readonly (keyof TrainConfig)[] = [],
): string[] {
  return RUN_IDENTITY_KEYS.filter((k) => !ignore.includes(k) && JSON.stringify(there[k]) !== JSON.stringify(now[k])).map(
    (k) => `${k} ${JSON.stringify(there[k])} there, ${JSON.stringify(now[k])} now`,
  );
}
