/** Text the commands print that the report layer does not already format. */
import type { TrainConfig } from "../config/types.js";
import type { Dataset } from "../data/types.js";

/** Where the commands write: stdout for results and progress (stderr carries only errors). */
export interface Io {
  out: (line: string) => void;
  /** Where a progress bar may be drawn (cli/progress.ts): one only if it is a terminal. None: plain lines. */
  bar?: { isTTY?: boolean; columns?: number; write(chunk: string): boolean };
}

export const processIo: Io = { out: (line) => process.stdout.write(line + "\n"), bar: process.stdout };

/** The resolved config, one aligned `key  value` line each, as it is stored in results.json. */
export function formatConfig(config: TrainConfig): string {
  const rows: [string, string][] = [
    ["dataset", config.dataset],
    ["condition", config.condition],
    ["dataDir", config.dataDir],
    ["labelFile", config.labelFile],
    ["features", `audio ${config.features.audio}, text ${config.features.text}, video ${config.features.video}`],
    ["epochs", `${config.epochs} (stage 1: ${span(1, config.stageEpoch)}, stage 2: ${span(config.stageEpoch + 1, config.epochs)})`],
    ["lr", String(config.lr)],
    ["weightDecay", String(config.weightDecay)],
    ["batchSize", String(config.batchSize)],
    ["hidden (D_e)", String(config.hidden)],
    ["heads", String(config.heads)],
    ["dropout", String(config.dropout)],
    ["seed", String(config.seed)],
    ["normalize", config.normalize],
    ["valFraction", config.valFraction === null ? "(none: the label file's validation split)"
      : config.valFraction === 0 ? "0 (no validation split: the validation rule takes the last epoch)"
        : `${config.valFraction} (of each session's training dialogues held out for validation)`],
    ["out", config.out ?? "(none: no results.json)"],
  ];
  if (config.stageEpoch === 0) rows[5][1] = `${config.epochs} (all stage 2: stage_epoch 0)`;
  if (config.stageEpoch === config.epochs) rows[5][1] = `${config.epochs} (all stage 1: no subtle stage)`;
  const w = Math.max(...rows.map(([k]) => k.length));
  return ["config:", ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join("\n");
}

/** "epoch 3" or "epochs 1-200" (1-based, inclusive). */
function span(first: number, last: number): string {
  return first === last ? `epoch ${first}` : `epochs ${first}-${last}`;
}

/** Videos and utterances per split, feature sizes and the padded batch shape. */
export function formatDataLine(dataset: Dataset, batchShape: [number, number]): string {
  const n = (ids: string[]) => ids.reduce((s, id) => s + (dataset.videos.get(id)?.utteranceIds.length ?? 0), 0);
  const { train, val, test } = dataset.splits;
  const split = (name: string, ids: string[]) => `${name} ${ids.length}/${n(ids)}`;
  return (
    `data: videos/utterances ${split("train", train)}, ${split("val", val)}, ${split("test", test)}; ` +
    `dims a ${dataset.dims.a} t ${dataset.dims.t} v ${dataset.dims.v}; ` +
    `batches of ${batchShape[0]} × ${batchShape[1]} utterances (padded)`
  );
}

/** Seconds as `12.3 s`, `4 min 05 s` or `2 h 05 min`. */
export function formatSeconds(s: number): string {
  if (s < 59.95) return `${s.toFixed(1)} s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** "seed 66" or "seed 66, fold 3": which run of a table a line is about. */
export function where(seed: number, fold: number | null): string {
  return `seed ${seed}` + (fold === null ? "" : `, fold ${fold}`);
}
