/**
 * Padded batches of videos (spec §1.2). Shapes stay fixed so each jit'ed step compiles once:
 * B is `batchSize` (a short last batch gets all-padding rows: umask 0, videoId null, length 0;
 * with `lastBatchMultiple`, only up to a multiple of that) and S is the dataset's longest video rounded up to a multiple of 8 (or `padTo`).
 * Padding positions are zero in every array.
 */
import { ConfigError } from "../errors.js";
import { mulberry32, shuffled, type Rng } from "./rng.js";
import { MODALITIES, type Batch, type Dataset, type PerModality } from "./types.js";

export { mulberry32, shuffled, type Rng } from "./rng.js";

export interface BatchOptions {
  /** Videos per batch (B). */
  batchSize: number;
  /** Shuffle with `mulberry32(shuffleSeed)`. Ignored when `rng` is given. */
  shuffleSeed?: number;
  /** Shuffle with this generator (e.g. one per run, so each epoch gets a new order). */
  rng?: Rng;
  /** Utterances per row (S); default `paddedLength(dataset)`. */
  padTo?: number;
  /**
   * Pad a short last batch only to a multiple of this many rows, not to `batchSize`: evaluation
   * uses it (rows are independent there, so the numbers are the same) to skip most of the padding,
   * at the cost of one more compiled shape. Default: pad to `batchSize`.
   */
  lastBatchMultiple?: number;
}

/** Evaluation (training's validation and test passes, `dssr eval`) pads a short last batch to a multiple of this. */
export const EVAL_LAST_BATCH_MULTIPLE = 4;

/** The longest video's utterance count, rounded up to a multiple of 8 (at least 8). */
export function paddedLength(dataset: Dataset): number {
  let longest = 0;
  for (const v of dataset.videos.values()) longest = Math.max(longest, v.utteranceIds.length);
  return Math.max(8, Math.ceil(longest / 8) * 8);
}

/** Pack `videoIds` (in order, or shuffled) into batches of exactly `batchSize` rows. */
export function makeBatches(dataset: Dataset, videoIds: readonly string[], opts: BatchOptions): Batch[] {
  return [...lazyBatches(dataset, videoIds, opts)];
}

/** Batches built one at a time, as they are reached (see lazyBatches). */
export interface BatchSequence extends Iterable<Batch> {
  readonly length: number;
  forEach(fn: (batch: Batch, index: number) => void): void;
}

/**
 * The batches `makeBatches` returns, but each padded batch is built only when iteration reaches
 * it (and can be dropped after), so a split costs one batch of host memory, not all of them: at
 * MOSEI's size (B 32, S up to ~100, 2,560 input features) one batch is ~34 MB and a training epoch
 * ~70 of them. The order (and any shuffle draw) and every check happen now, as in makeBatches.
 */
export function lazyBatches(dataset: Dataset, videoIds: readonly string[], opts: BatchOptions): BatchSequence {
  const B = opts.batchSize;
  if (!Number.isInteger(B) || B <= 0) throw new ConfigError(`batch size must be a positive integer, got ${B}`);
  const S = opts.padTo ?? paddedLength(dataset);
  if (!Number.isInteger(S) || S <= 0) throw new ConfigError(`padTo must be a positive integer, got ${S}`);
  const rng = opts.rng ?? (opts.shuffleSeed !== undefined ? mulberry32(opts.shuffleSeed) : undefined);
  const order = rng ? shuffled(videoIds, rng) : videoIds.slice();
  const videos = order.map((id) => {
    const v = dataset.videos.get(id);
    if (!v) throw new ConfigError(`video '${id}' is not in the dataset (${dataset.sources.labels})`);
    if (v.utteranceIds.length > S) {
      throw new ConfigError(`video '${id}' has ${v.utteranceIds.length} utterances, more than padTo = ${S}`);
    }
    return v;
  });

  const multiple = opts.lastBatchMultiple;
  if (multiple !== undefined && (!Number.isInteger(multiple) || multiple <= 0)) {
    throw new ConfigError(`lastBatchMultiple must be a positive integer, got ${multiple}`);
  }
  const build = (start: number): Batch => {
    const rows = videos.slice(start, start + opts.batchSize);
    const B = multiple === undefined ? opts.batchSize : Math.min(opts.batchSize, Math.ceil(rows.length / multiple) * multiple);
    const features = {} as PerModality<Float32Array>;
    for (const m of MODALITIES) features[m] = new Float32Array(B * S * dataset.dims[m]);
    const umask = new Float32Array(B * S);
    const qmask = new Float32Array(B * S);
    const labels = new Float32Array(B * S);
    const videoIdsOut: (string | null)[] = new Array(B).fill(null);
    const lengths: number[] = new Array(B).fill(0);
    rows.forEach((v, b) => {
      const n = v.utteranceIds.length;
      videoIdsOut[b] = v.id;
      lengths[b] = n;
      for (const m of MODALITIES) features[m].set(v.features[m], b * S * dataset.dims[m]);
      for (let s = 0; s < n; s++) {
        umask[b * S + s] = 1;
        qmask[b * S + s] = v.speakers[s];
        labels[b * S + s] = v.labels[s];
      }
    });
    return { B, S, features, umask, qmask, labels, videoIds: videoIdsOut, lengths };
  };
  const length = Math.ceil(videos.length / B);
  function* iterate(): Generator<Batch> {
    for (let i = 0; i < length; i++) yield build(i * B);
  }
  return {
    length,
    [Symbol.iterator]: iterate,
    forEach(fn) {
      let i = 0;
      for (const b of iterate()) fn(b, i++);
    },
  };
}
