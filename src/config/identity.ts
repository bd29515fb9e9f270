/**
 * Which settings make two runs the same run: what a reused results.json (`dssr table --resume`)
 * or a training checkpoint (`--resume`) must share with the run it stands for. Output folders,
 * the data folder's spelling and the condition (for shared stage-1 state) are not part of it.
 */
import type { TrainConfig } from "./types.js";

export const RUN_IDENTITY_KEYS: readonly (keyof TrainConfig)[] = [
  "dataset", "labelFile", "features", "condition", "epochs", "stageEpoch", "lr", "weightDecay", "batchSize",
  "hidden", "heads", "dropout", "seed", "normalize", "valFraction",
];

/**
 * A setting's value as it identifies the run. A config written before `valFraction` existed ran
 * without a held-out validation split: null (the label file's split) for MOSI/MOSEI, 0 for IEMOCAP.
 */
export function identityValue(config: Partial<TrainConfig>, key: keyof TrainConfig): unknown {
  const v = config[key];
  if (key === "valFraction" && v === undefined) {
    return config.dataset === "CMUMOSI" || config.dataset === "CMUMOSEI" ? null : 0;
  }
  return v;
}

/** `key there, now` descriptions of the identity settings on which `there` and `now` differ. */
export function configDifferences(
  there: Partial<TrainConfig>,
  now: TrainConfig,
  ignore: readonly (keyof TrainConfig)[] = [],
): string[] {
  return RUN_IDENTITY_KEYS.filter(
    (k) => !ignore.includes(k) && JSON.stringify(identityValue(there, k)) !== JSON.stringify(identityValue(now, k)),
  ).map((k) => `${k} ${JSON.stringify(identityValue(there, k))} there, ${JSON.stringify(identityValue(now, k))} now`);
}
