/**
 * The random missing-rate protocol (GCNet, Lian et al. 2023; used by MoMKE): every utterance loses
 * each of its modalities at random, at rate r, but keeps at least one; the masks are fixed per
 * seed; the generation module fills in what is missing per utterance (model/generation-module.ts).
 *
 * The scheme (our decision; GCNet's own draws are per dataset, not per utterance):
 * - an utterance's three draws u_a, u_t, u_v are uniform in [0, 1), from a mulberry32 stream seeded
 *   with a hash of (seed, utterance id): a pure function of the seed and the id, so the mask does
 *   not depend on batching, order, split or the other utterances;
 * - modality m is missing when u_m < q(r); if that would remove all three, the modality with the
 *   largest draw stays available (the utterance "gets one modality back");
 * - q(r) solves q − q³/3 = r, so each modality is missing with probability exactly r and the
 *   expected fraction of missing (utterance, modality) cells is exactly r:
 *   P(m missing) = q − P(all three < q and u_m is the largest) = q − q³/3.
 * - Masks are nested over rates (one set of draws, a rising threshold): what is missing at
 *   r = 0.3 is also missing at r = 0.5 under the same seed.
 * - Keeping one modality caps the fraction at 2/3 (two of three missing everywhere). A rate above
 *   2/3 (the default sweep's 0.7) uses q = 1: every utterance keeps exactly one modality, chosen
 *   uniformly — what GCNet's `random_mask` does there too — and its effective rate is 2/3
 *   (`effectiveMissingRate`); reports print both.
 *
 * Padding positions of a batch count as all-available (their features are zero anyway) so that
 * the generation module's mean is never 0/0 there; metrics ignore them.
 */
import { ConfigError } from "../errors.js";
import { mulberry32 } from "./rng.js";
import { MODALITIES, type Batch, type Dataset, type Modality, type PerModality } from "./types.js";

/** The largest fraction of missing cells that keeps one modality per utterance (2 of 3). */
export const MAX_MISSING_FRACTION = 2 / 3;

/** The default sweep of `dssr table --missing-rates` (GCNet's rates). */
export const DEFAULT_MISSING_RATES: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];

/** A rate is a number in [0, 1]; a ConfigError otherwise. */
export function checkMissingRate(rate: number): number {
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new ConfigError(`missing rate must be a number in [0, 1], got ${String(rate)}`);
  }
  return rate;
}

/** A comma-separated list of rates such as `0,0.1,0.5`, each checked, without duplicates. */
export function parseMissingRates(list: string): number[] {
  const parts = list.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0) throw new ConfigError(`--missing-rates expects a comma-separated list of rates in [0, 1], got '${list}'`);
  const out: number[] = [];
  for (const p of parts) {
    const r = Number(p);
    if (!/^[0-9.eE+-]+$/.test(p) || !Number.isFinite(r)) {
      throw new ConfigError(`--missing-rates: '${p}' is not a number (expected rates in [0, 1], e.g. 0,0.1,0.2)`);
    }
    checkMissingRate(r);
    if (out.includes(r)) throw new ConfigError(`--missing-rates: rate ${p} is listed twice in '${list}'`);
    out.push(r);
  }
  return out;
}

/** The fraction of missing cells the scheme produces in expectation: min(r, 2/3). */
export function effectiveMissingRate(rate: number): number {
  return Math.min(checkMissingRate(rate), MAX_MISSING_FRACTION);
}

/** The per-draw threshold q(r): the root in [0, 1] of q − q³/3 = min(r, 2/3) (bisection, float64). */
export function missingThreshold(rate: number): number {
  const r = effectiveMissingRate(rate);
  if (r === 0) return 0;
  if (r >= MAX_MISSING_FRACTION) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 64; i++) {
    const mid = (lo + hi) / 2;
    if (mid - mid ** 3 / 3 < r) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** cyrb53 (public domain): a 53-bit string hash with a seed, mixed well enough for seeding. */
function hash53(s: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The utterance's three uniform draws (a, t, v): a pure function of (seed, utterance id). */
export function utteranceDraws(seed: number, utteranceId: string): [number, number, number] {
  const h = hash53(utteranceId, seed >>> 0);
  const rng = mulberry32((h ^ Math.floor(h / 4294967296)) >>> 0);
  return [rng(), rng(), rng()];
}

/** Per modality, 1 = available and 0 = missing, for one utterance at rate r (see the module comment). */
export function utteranceMask(seed: number, rate: number, utteranceId: string): PerModality<0 | 1> {
  return maskFromDraws(utteranceDraws(seed, utteranceId), missingThreshold(rate));
}

function maskFromDraws(u: [number, number, number], q: number): PerModality<0 | 1> {
  const keep = u.map((x) => (x < q ? 0 : 1)) as (0 | 1)[];
  if (keep[0] + keep[1] + keep[2] === 0) keep[u.indexOf(Math.max(...u))] = 1; // keep at least one
  return { a: keep[0], t: keep[1], v: keep[2] };
}

/**
 * Availability per utterance of the named videos: video id → [n_utterances × 3] (a, t, v order),
 * 1 available, 0 missing. Defaults to every video of the dataset.
 */
export type VideoMasks = Map<string, Uint8Array>;

export function datasetMasks(dataset: Dataset, seed: number, rate: number, videoIds?: readonly string[]): VideoMasks {
  const q = missingThreshold(rate);
  const out: VideoMasks = new Map();
  for (const id of videoIds ?? [...dataset.videos.keys()]) {
    const v = dataset.videos.get(id);
    if (v === undefined) throw new ConfigError(`video '${id}' is not in the dataset (${dataset.sources.labels})`);
    const m = new Uint8Array(v.utteranceIds.length * 3);
    v.utteranceIds.forEach((u, s) => {
      const k = maskFromDraws(utteranceDraws(seed, u), q);
      MODALITIES.forEach((mod, j) => (m[s * 3 + j] = k[mod]));
    });
    out.set(id, m);
  }
  return out;
}

/** Fraction of missing (utterance, modality) cells of the named videos (default all of `masks`). */
export function missingFraction(masks: VideoMasks, videoIds?: readonly string[]): number {
  let missing = 0;
  let cells = 0;
  for (const id of videoIds ?? [...masks.keys()]) {
    const m = masks.get(id);
    if (m === undefined) throw new Error(`missingFraction: no mask for video '${id}'`);
    for (const x of m) missing += x === 0 ? 1 : 0;
    cells += m.length;
  }
  return cells === 0 ? Number.NaN : missing / cells;
}

/** The available modalities of a mask triple, in a/t/v order (a condition name). */
export function patternOf(mask: PerModality<0 | 1> | ArrayLike<number>): Modality[] {
  const get = (m: Modality, j: number) => ("length" in mask ? (mask as ArrayLike<number>)[j] : (mask as PerModality<0 | 1>)[m]);
  return MODALITIES.filter((m, j) => get(m, j) === 1);
}

/**
 * A batch under the masks: a copy whose missing modalities' features are zero at their utterances
 * (so a missing modality's raw values never reach the device), and the mask as [B, S, 3] float32
 * (1 available, 0 missing; padding positions and padding rows 1).
 */
export function maskBatch(batch: Batch, dims: PerModality<number>, masks: VideoMasks): { batch: Batch; mask: Float32Array } {
  const { B, S } = batch;
  const mask = new Float32Array(B * S * 3).fill(1);
  const features = {} as PerModality<Float32Array>;
  for (const m of MODALITIES) features[m] = batch.features[m].slice();
  batch.videoIds.forEach((id, b) => {
    if (id === null) return;
    const vm = masks.get(id);
    if (vm === undefined) throw new Error(`maskBatch: no mask for video '${id}'`);
    if (vm.length !== batch.lengths[b] * 3) throw new Error(`maskBatch: mask of video '${id}' has ${vm.length / 3} utterances, the batch ${batch.lengths[b]}`);
    for (let s = 0; s < batch.lengths[b]; s++) {
      MODALITIES.forEach((m, j) => {
        const pos = b * S + s;
        mask[pos * 3 + j] = vm[s * 3 + j];
        if (vm[s * 3 + j] === 0) features[m].fill(0, pos * dims[m], (pos + 1) * dims[m]);
      });
    }
  });
  return { batch: { ...batch, features }, mask };
}
