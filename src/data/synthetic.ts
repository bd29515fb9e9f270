/**
 * A small CMU-MOSI-like dataset in the exact GCNet layout, for tests, demos and smoke runs:
 *
 *   <dir>/CMUMOSI_features_raw_2way.pkl            7-tuple (videoIDs, videoLabels, videoSpeakers,
 *                                                  videoSentences, trainVids, valVids, testVids),
 *                                                  labels Python floats, splits Python sets
 *   <dir>/features/synth-audio/audio.pkl            (name2feats, dA) with numpy float32 vectors
 *   <dir>/features/synth-text/text.pkl              (name2feats, dT)
 *   <dir>/features/synth-video/video.pkl            (name2feats, dV)
 *
 * The generator (all draws from mulberry32(seed); N = standard normal):
 *   per video v:        mood μ_v ~ 0.5·N                      (shared by its utterances: context helps)
 *   per utterance:      shared c ~ N; unique e_a, e_t, e_v ~ N
 *                       z_m = ρ·c + √(1-ρ²)·e_m, ρ = 0.5       (one latent per modality, unit variance;
 *                                                               ρ lets one modality partly predict another)
 *   score               r = μ_v + 1.0·z_t + 0.7·z_a + 0.5·z_v + 0.5·z_a·z_v
 *   label               y = round5(clip(3·tanh(r / 1.5), -3, 3))   (a multiple of 0.2)
 *   features            x_m = A_m·[z_m, n_1..n_4] + σ_m·ε           (n: nuisance latents, ε ~ N per dim,
 *                                                               A_m a fixed random d_m × 5 matrix whose
 *                                                               first column has norm 3)
 *                       σ_t = 0.5, σ_a = 1.0, σ_v = 1.5; audio then gets openSMILE-like per-dimension
 *                       offsets in [0, 50) and scales in [1, 10), so z-scoring matters.
 * Text carries the strongest, cleanest signal, audio a medium one, video the weakest, and the a·v
 * interaction is only visible with both: single modalities < pairs < all three. A linear ridge
 * probe (z-scored, train+val → test) on seed 1 with the defaults (120 videos, 1213 utterances)
 * gives test Pearson r: a 0.56, t 0.71, v 0.44 | at 0.82, av 0.64, tv 0.78 | atv 0.86
 * (Acc-2 on non-zero labels: 0.72, 0.79, 0.66 | 0.83, 0.72, 0.80 | 0.85); seeds 2 and 3 keep
 * the same order. A non-linear model can also use the a·v term, which the probe cannot.
 *
 * `dataset: "CMUMOSEI"` writes the same data under MOSEI's label file name; `utteranceCounts`
 * fixes each video's utterance count (e.g. a MOSEI-sized set, bench/mosei-memory.ts).
 * `dataset: "IEMOCAPFour" | "IEMOCAPSix"` writes IEMOCAP's layout instead (writeSyntheticIemocap).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FeatureNames } from "../config/types.js";
import { ConfigError } from "../errors.js";
import { featurePaths, defaultLabelFile } from "./dataset.js";
import { writePickle, tuple, type PickleIn } from "./pickle-writer.js";
import { gaussian, mulberry32, shuffled, type Rng } from "./rng.js";
import { readLabelFile } from "./labels.js";
import { MODALITIES, type DatasetName, type PerModality } from "./types.js";

/** Feature folder names of the synthetic dataset, for `loadDataset({ features })`. */
export const SYNTHETIC_FEATURES: FeatureNames = { audio: "synth-audio", text: "synth-text", video: "synth-video" };
export const SYNTHETIC_DATASET = "CMUMOSI" as const;

export interface SyntheticOptions {
  seed: number;
  /** Which release layout (label file name and format); default CMUMOSI. */
  dataset?: DatasetName;
  /**
   * IEMOCAP only: take the dialogues, utterance ids, labels and speakers from this label file
   * (e.g. the real one) and write only the feature files; default: generate dialogues too.
   */
  labelFile?: string;
  /** Utterances of each video, in order (overrides videos, minUtterances and maxUtterances). */
  utteranceCounts?: readonly number[];
  /** Videos (default 120). */
  videos?: number;
  /** Utterances per video are uniform in [min, max] (default 6..14, about 10 on average). */
  minUtterances?: number;
  maxUtterances?: number;
  /** Feature sizes (default a 16, t 24, v 20). */
  dims?: PerModality<number>;
  /** Train/val fractions of the videos; the rest is test (default 0.6 / 0.1). */
  trainFraction?: number;
  valFraction?: number;
}

export interface SyntheticSummary {
  labelFile: string;
  featureFiles: PerModality<string>;
  videos: number;
  utterances: number;
  dims: PerModality<number>;
  splits: { train: string[]; val: string[]; test: string[] };
}

const RHO = 0.5;
const WEIGHT: PerModality<number> = { a: 0.7, t: 1.0, v: 0.5 };
const INTERACTION = 0.5; // on z_a · z_v
const NOISE: PerModality<number> = { a: 1.0, t: 0.5, v: 1.5 };
const NUISANCE = 4;

/** Write the dataset under `dir` (created if needed) and say what was written. */
export function writeSyntheticDataset(dir: string, opts: SyntheticOptions): SyntheticSummary {
  const dataset = opts.dataset ?? SYNTHETIC_DATASET;
  if (dataset === "IEMOCAPFour" || dataset === "IEMOCAPSix") return writeSyntheticIemocap(dir, { ...opts, dataset });
  if (opts.labelFile !== undefined) throw new ConfigError("synthetic data: labelFile applies to IEMOCAP only");
  const counts = opts.utteranceCounts;
  const nVideos = counts?.length ?? opts.videos ?? 120;
  const minU = opts.minUtterances ?? 6;
  const maxU = opts.maxUtterances ?? 14;
  const dims = opts.dims ?? { a: 16, t: 24, v: 20 };
  const trainFrac = opts.trainFraction ?? 0.6;
  const valFrac = opts.valFraction ?? 0.1;
  if (!(nVideos >= 3 && minU >= 1 && maxU >= minU)) {
    throw new ConfigError(`synthetic dataset needs ≥ 3 videos and 1 ≤ minUtterances ≤ maxUtterances`);
  }
  if (counts !== undefined && !counts.every((c) => Number.isInteger(c) && c >= 1)) {
    throw new ConfigError("synthetic dataset: utteranceCounts must be positive integers");
  }
  const rng = mulberry32(opts.seed);
  const mixing = {} as PerModality<Float64Array[]>;
  for (const m of MODALITIES) mixing[m] = randomMixing(rng, dims[m]);
  const offset = Array.from({ length: dims.a }, () => 50 * rng());
  const scale = Array.from({ length: dims.a }, () => 1 + 9 * rng());

  const videoIDs = new Map<PickleIn, PickleIn>();
  const videoLabels = new Map<PickleIn, PickleIn>();
  const videoSpeakers = new Map<PickleIn, PickleIn>();
  const videoSentences = new Map<PickleIn, PickleIn>();
  const name2feats: PerModality<Map<PickleIn, PickleIn>> = { a: new Map(), t: new Map(), v: new Map() };
  const vids: string[] = [];
  let utterances = 0;

  for (let k = 0; k < nVideos; k++) {
    const vid = `synth${String(k).padStart(4, "0")}`;
    vids.push(vid);
    const n = counts !== undefined ? counts[k] : minU + Math.floor(rng() * (maxU - minU + 1));
    const mood = 0.5 * gaussian(rng);
    const ids: string[] = [];
    const labels: number[] = [];
    for (let i = 1; i <= n; i++) {
      const uid = `${vid}_${i}`;
      const c = gaussian(rng);
      const z = {} as PerModality<number>;
      for (const m of MODALITIES) z[m] = RHO * c + Math.sqrt(1 - RHO * RHO) * gaussian(rng);
      const r = mood + WEIGHT.t * z.t + WEIGHT.a * z.a + WEIGHT.v * z.v + INTERACTION * z.a * z.v;
      labels.push(roundTo(Math.max(-3, Math.min(3, 3 * Math.tanh(r / 1.5))), 0.2));
      ids.push(uid);
      for (const m of MODALITIES) {
        const x = features(rng, mixing[m], z[m], NOISE[m]);
        if (m === "a") for (let j = 0; j < x.length; j++) x[j] = offset[j] + scale[j] * x[j];
        name2feats[m].set(uid, x);
      }
    }
    utterances += n;
    videoIDs.set(vid, ids);
    videoLabels.set(vid, labels);
    videoSpeakers.set(vid, ids.map(() => ""));
    videoSentences.set(vid, ids.map((_, i) => `SYNTHETIC UTTERANCE ${i + 1} OF ${vid.toUpperCase()}`));
  }

  const order = shuffled(vids, rng);
  const nTrain = Math.max(1, Math.round(trainFrac * nVideos));
  const nVal = Math.max(1, Math.round(valFrac * nVideos));
  const inLabelOrder = (set: Set<string>): string[] => vids.filter((v) => set.has(v));
  const train = new Set(order.slice(0, nTrain));
  const val = new Set(order.slice(nTrain, nTrain + nVal));
  const test = new Set(order.slice(nTrain + nVal));

  const labelFile = defaultLabelFile(dataset, dir);
  const featureFiles = featurePaths(dir, SYNTHETIC_FEATURES);
  mkdirSync(dir, { recursive: true });
  writePickle(labelFile, tuple(videoIDs, videoLabels, videoSpeakers, videoSentences, train, val, test));
  for (const m of MODALITIES) {
    mkdirSync(join(featureFiles[m], ".."), { recursive: true });
    writePickle(featureFiles[m], tuple(name2feats[m], BigInt(dims[m])));
  }
  return {
    labelFile, featureFiles, videos: nVideos, utterances, dims,
    splits: { train: inLabelOrder(train), val: inLabelOrder(val), test: inLabelOrder(test) },
  };
}

/**
 * IEMOCAP's layout (spec §1.1): a 6-list label file `(videoIDs, videoLabels, videoSpeakers,
 * videoSentences, trainVid, testVid)` with class ids and 'F'/'M' speakers, and feature files whose
 * values are `{'F': vector, 'M': vector}`, the speaker's slot filled and the other zeros. With
 * `labelFile` the dialogues are that file's (only the features are written; the summary names
 * that label file); otherwise `videos` dialogues (default 40) are spread over sessions 1-5 as
 * `Ses0<s><F|M>_synth<k>`, speakers and classes uniform, the label file's split session 5 = test.
 * Classes: 4 (IEMOCAPFour) or 6 (IEMOCAPSix), or the label file's. Features (each modality from
 * its own stream, so only one is held at a time): x = g_m·P_m[y] + N(0, 1) per dimension, with a
 * random class prototype P_m[y] of unit norm per dimension and g = t 1.0, a 0.6, v 0.35 (text
 * clearest, video weakest).
 */
export function writeSyntheticIemocap(
  dir: string,
  opts: SyntheticOptions & { dataset: "IEMOCAPFour" | "IEMOCAPSix" },
): SyntheticSummary {
  const dims = opts.dims ?? { a: 16, t: 24, v: 20 };
  const rng = mulberry32(opts.seed);
  let videoIds: Map<string, string[]>;
  let videoLabels: Map<string, number[]>;
  let videoSpeakers: Map<string, string[]>;
  let train: string[];
  let test: string[];
  let labelFile: string;
  if (opts.labelFile !== undefined) {
    const lf = readLabelFile(opts.labelFile);
    if (lf.kind !== "emotion") throw new ConfigError(`synthetic IEMOCAP: ${opts.labelFile} is not an IEMOCAP (6-item) label file`);
    ({ videoIds, videoLabels, videoSpeakers, train, test } = lf);
    labelFile = lf.file;
  } else {
    const k = opts.dataset === "IEMOCAPSix" ? 6 : 4;
    const n = opts.videos ?? 40;
    const minU = opts.minUtterances ?? 6;
    const maxU = opts.maxUtterances ?? 14;
    if (!(n >= 5 && minU >= 1 && maxU >= minU)) {
      throw new ConfigError("synthetic IEMOCAP needs ≥ 5 dialogues (one per session) and 1 ≤ minUtterances ≤ maxUtterances");
    }
    videoIds = new Map();
    videoLabels = new Map();
    videoSpeakers = new Map();
    for (let d = 0; d < n; d++) {
      const vid = `Ses0${(d % 5) + 1}${d % 2 === 0 ? "F" : "M"}_synth${String(d).padStart(3, "0")}`;
      const len = opts.utteranceCounts?.[d] ?? minU + Math.floor(rng() * (maxU - minU + 1));
      const speakers = Array.from({ length: len }, () => (rng() < 0.5 ? "F" : "M"));
      videoIds.set(vid, speakers.map((s, i) => `${vid}_${s}${String(i).padStart(3, "0")}`));
      // Every class present: the first k utterances of the first dialogue cycle through them.
      videoLabels.set(vid, speakers.map((_, i) => (d === 0 && i < k ? i : Math.floor(rng() * k))));
      videoSpeakers.set(vid, speakers);
    }
    const ids = [...videoIds.keys()];
    train = ids.filter((id) => id[4] !== "5");
    test = ids.filter((id) => id[4] === "5");
    labelFile = defaultLabelFile(opts.dataset, dir);
    mkdirSync(dir, { recursive: true });
    const asPy = <T extends PickleIn>(m: Map<string, T[]>) => new Map<PickleIn, PickleIn>([...m].map(([key, v]) => [key, v]));
    const sentences = new Map<PickleIn, PickleIn>(ids.map((id) => [id, videoIds.get(id)!.map((u) => `SYNTHETIC ${u}`)]));
    writePickle(labelFile, [
      asPy(videoIds), new Map<PickleIn, PickleIn>([...videoLabels].map(([key, v]) => [key, v.map((y) => BigInt(y))])),
      asPy(videoSpeakers), sentences, new Set<PickleIn>(train), new Set<PickleIn>(test),
    ]);
  }
  const classes = Math.max(...[...videoLabels.values()].flat()) + 1;
  const featureFiles = featurePaths(dir, SYNTHETIC_FEATURES);
  const gain: PerModality<number> = { a: 0.6, t: 1.0, v: 0.35 };
  let utterances = 0;
  for (const [mi, m] of MODALITIES.entries()) {
    const r = mulberry32((opts.seed ^ Math.imul(mi + 1, 0x27d4eb2d)) >>> 0);
    const d = dims[m];
    const proto = Array.from({ length: classes }, () => Float64Array.from({ length: d }, () => gaussian(r)));
    const name2feats = new Map<PickleIn, PickleIn>();
    utterances = 0;
    for (const [vid, uids] of videoIds) {
      const ys = videoLabels.get(vid)!;
      const sp = videoSpeakers.get(vid)!;
      uids.forEach((uid, i) => {
        const x = new Float32Array(d);
        for (let j = 0; j < d; j++) x[j] = gain[m] * proto[ys[i]][j] + gaussian(r);
        const zeros = new Float32Array(d);
        name2feats.set(uid, new Map<PickleIn, PickleIn>(sp[i] === "M" ? [["F", zeros], ["M", x]] : [["F", x], ["M", zeros]]));
        utterances++;
      });
    }
    mkdirSync(join(featureFiles[m], ".."), { recursive: true });
    writePickle(featureFiles[m], tuple(name2feats, BigInt(d)));
  }
  return { labelFile, featureFiles, videos: videoIds.size, utterances, dims, splits: { train, val: [], test } };
}

/** A d × (1 + NUISANCE) matrix, stored by column; the signal column is scaled to norm 3. */
function randomMixing(rng: Rng, d: number): Float64Array[] {
  return Array.from({ length: 1 + NUISANCE }, (_, col) => {
    const v = Float64Array.from({ length: d }, () => gaussian(rng));
    const norm = Math.hypot(...v);
    const target = col === 0 ? 3 : 1.5;
    return v.map((x) => (x / norm) * target);
  });
}

function features(rng: Rng, mixing: Float64Array[], signal: number, noise: number): Float32Array {
  const d = mixing[0].length;
  const x = new Float32Array(d);
  const latent = [signal, ...Array.from({ length: NUISANCE }, () => gaussian(rng))];
  for (let j = 0; j < d; j++) {
    let s = noise * gaussian(rng);
    for (let c = 0; c < latent.length; c++) s += mixing[c][j] * latent[c];
    x[j] = s;
  }
  return x;
}

/** Round to the nearest multiple of `step`, without -0 or float dust (0.6000000000000001 → 0.6). */
function roundTo(x: number, step: number): number {
  const r = Number((Math.round(x / step) * step).toFixed(10));
  return r === 0 ? 0 : r;
}

