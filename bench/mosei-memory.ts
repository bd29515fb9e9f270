/**
 * `npm run bench:mosei` (`npx tsx bench/mosei-memory.ts`): does DSSR fit CMU-MOSEI's size?
 *
 * 1. Writes a generated MOSEI-sized set in the release's layout (CMUMOSEI_features_raw_2way.pkl +
 *    features/synth-{audio,text,video}/*.pkl): 3,228 videos, 22,856 utterances, the paper's
 *    feature sizes 512/1024/1024 (data/synthetic.ts), split 2,250/300/678 videos as MOSEI's
 *    2,249/300/679. Utterances per video: a long-tailed draw (mean 7.08) whose longest video has
 *    `--max-utterances` (default 100; real MOSEI's is not documented here), which sets the padded
 *    batch length S and so the cost of every batch.
 * 2. Trains 1 stage-1 + 1 stage-2 epoch under condition atv with MOSEI's preset (batch 32, lr
 *    5e-5, D 128), z-score normalisation, in a child process under `/usr/bin/time -v`, and prints
 *    the peak RSS, the wasm heap and the seconds of each phase: load (read + assemble + normalise),
 *    stage-1 epoch and stage-2 epoch (each: training batches + validation and test passes,
 *    compiling included) and one evaluation pass (val + test, compiled).
 * Each phase runs in its own process, so the generator's memory does not count against training.
 * The wasm heap figure is the size of jax-js's WebAssembly.Memory at the end: with the default
 * pre-sized heap (src/wasm-heap.ts) that is the reservation, not use; `DSSR_WASM_MEMORY_MB=0` lets it
 * grow on demand, so that it reads the heap's high-water mark (at some cost in GC time).
 *
 * Options: --dir D (keep the data there and reuse it; default a temporary folder, removed after),
 * --max-utterances N, --seed N.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { mergeOptionLayers, presetLayer } from "../src/config/layers.js";
import { resolveTrainConfig } from "../src/config/resolve.js";
import { defaultLabelFile } from "../src/data/dataset.js";
import { mulberry32 } from "../src/data/rng.js";
import { SYNTHETIC_FEATURES, writeSyntheticDataset } from "../src/data/synthetic.js";
import { initEngine } from "../src/engine.js";
import { wasmHeapBytes } from "../src/wasm-heap.js";
import { evaluate } from "../src/predict.js";
import { loadRunData } from "../src/run.js";
import { train } from "../src/train/loop.js";

const VIDEOS = 3228;
const UTTERANCES = 22856;
const DIMS = { a: 512, t: 1024, v: 1024 };

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    "max-utterances": { type: "string", default: "100" },
    seed: { type: "string", default: "1" },
    phase: { type: "string" }, // internal: generate | train (the child processes)
  },
});
const maxU = Number(values["max-utterances"]);
const seed = Number(values.seed);
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

/** 3,228 counts ≥ 1 summing to 22,856, long-tailed (geometric-like), the first one `maxU`. */
export function moseiCounts(max: number, s: number): number[] {
  const rng = mulberry32(s);
  const counts = Array.from({ length: VIDEOS }, () => 1 + Math.min(max - 1, Math.floor(-6.08 * Math.log(1 - rng()))));
  counts[0] = max;
  let total = counts.reduce((a, b) => a + b, 0);
  while (total !== UTTERANCES) {
    const i = 1 + Math.floor(rng() * (VIDEOS - 1));
    if (total < UTTERANCES && counts[i] < max) { counts[i]++; total++; }
    else if (total > UTTERANCES && counts[i] > 1) { counts[i]--; total--; }
  }
  return counts;
}

const heapMiB = () => {
  const b = wasmHeapBytes();
  return b === null ? null : mib(b);
};

function rss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

async function phaseGenerate(dir: string): Promise<void> {
  const t0 = performance.now();
  const s = writeSyntheticDataset(dir, {
    seed, dataset: "CMUMOSEI", utteranceCounts: moseiCounts(maxU, seed), dims: DIMS,
    trainFraction: 2250 / VIDEOS, valFraction: 300 / VIDEOS,
  });
  report(dir, "generate", {
    phase: "generate", seconds: (performance.now() - t0) / 1000, videos: s.videos, utterances: s.utterances,
    splits: [s.splits.train.length, s.splits.val.length, s.splits.test.length], peakRssMiB: mib(rss()),
  });
}

async function phaseTrain(dir: string): Promise<void> {
  const config = resolveTrainConfig({
    ...mergeOptionLayers([presetLayer("mosei")]),
    dataset: "CMUMOSEI", dataDir: dir, features: SYNTHETIC_FEATURES, epochs: 2, stageEpoch: 1, normalize: "zscore", condition: "atv",
  });
  const out: Record<string, unknown> = { phase: "train", batchSize: config.batchSize, hidden: config.hidden };
  const t0 = performance.now();
  const data = loadRunData(config);
  out.loadSeconds = (performance.now() - t0) / 1000;
  out.rssAfterLoadMiB = mib(process.memoryUsage().rss);
  out.peakRssAfterLoadMiB = mib(rss());
  await initEngine();
  const epochs: { stage: number; seconds: number; rssMiB: number; wasmMiB: number | null }[] = [];
  const result = await train(config, {
    onStart: ({ batchShape }) => { out.batchShape = batchShape; },
    onEpoch: (r) => {
      epochs.push({ stage: r.stage, seconds: r.seconds, rssMiB: mib(process.memoryUsage().rss), wasmMiB: heapMiB() });
      console.log(`epoch ${r.epoch + 1} (stage ${r.stage}): ${r.seconds.toFixed(1)} s, rss ${epochs.at(-1)!.rssMiB} MiB`);
    },
  }, data);
  out.epochs = epochs;
  out.compileSeconds = result.compileSeconds;
  // One more evaluation pass (val + test) with the trained model, compiled: the eval phase alone.
  const model = {
    params: result.params, shape: result.shape, config: result.config, normalization: { method: "none" as const },
    condition: config.condition, task: result.dataset.task, stage: 2 as const,
  };
  const te = performance.now();
  await evaluate(model, result.dataset, "val");
  await evaluate(model, result.dataset, "test");
  out.evalSeconds = (performance.now() - te) / 1000;
  out.wasmMiB = heapMiB();
  out.wasmPresizeMB = process.env.DSSR_WASM_MEMORY_MB ?? "3584 (default)";
  out.peakRssMiB = mib(rss());
  report(dir, "train", out);
}

/** A child's measurements, for the parent: `<dir>/bench-<phase>.json`. */
function report(dir: string, phase: string, doc: Record<string, unknown>): void {
  writeFileSync(join(dir, `bench-${phase}.json`), JSON.stringify(doc));
}

/** Run this script's `phase` in a child under /usr/bin/time -v (its output shown as it comes); its report and max RSS. */
function child(phase: string, dir: string): Record<string, unknown> {
  const args = ["--import", "tsx", import.meta.filename, "--phase", phase, "--dir", dir, "--max-utterances", String(maxU), "--seed", String(seed)];
  const timed = existsSync("/usr/bin/time");
  const r = spawnSync(timed ? "/usr/bin/time" : process.execPath, timed ? ["-v", process.execPath, ...args] : args, {
    encoding: "utf8", stdio: ["ignore", "inherit", "pipe"], maxBuffer: 1 << 26,
  });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    throw new Error(`${phase} phase failed (exit ${r.status})`);
  }
  const doc = JSON.parse(readFileSync(join(dir, `bench-${phase}.json`), "utf8")) as Record<string, unknown>;
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (m) doc.timeMaxRssMiB = Math.round(Number(m[1]) / 1024);
  const w = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.+)/.exec(r.stderr);
  if (w) doc.timeWall = w[1].trim();
  return doc;
}

if (values.phase === "generate") await phaseGenerate(values.dir!);
else if (values.phase === "train") await phaseTrain(values.dir!);
else {
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), "dssr-mosei-"));
  try {
    const nodeVersion = execFileSync(process.execPath, ["--version"], { encoding: "utf8" }).trim();
    console.log(`MOSEI-sized memory bench: ${VIDEOS} videos, ${UTTERANCES} utterances, dims ${DIMS.a}/${DIMS.t}/${DIMS.v}, longest video ${maxU} utterances; data in ${dir}; node ${nodeVersion}`);
    if (!existsSync(defaultLabelFile("CMUMOSEI", dir))) {
      const g = child("generate", dir);
      console.log(`generate: ${(g.seconds as number).toFixed(1)} s, peak RSS ${g.timeMaxRssMiB ?? g.peakRssMiB} MiB, splits ${(g.splits as number[]).join("/")} videos`);
    }
    const t = child("train", dir);
    const ep = t.epochs as { stage: number; seconds: number }[];
    console.log(
      `train (batch ${t.batchSize} × S ${(t.batchShape as number[])[1]}, D ${t.hidden}, atv): load ${(t.loadSeconds as number).toFixed(1)} s ` +
        `(RSS after load ${t.rssAfterLoadMiB} MiB), stage-1 epoch ${ep[0].seconds.toFixed(1)} s, stage-2 epoch ${ep[1].seconds.toFixed(1)} s ` +
        `(compiling ${(t.compileSeconds as number).toFixed(1)} s of these), eval pass (val + test) ${(t.evalSeconds as number).toFixed(1)} s`,
    );
    console.log(`peak RSS ${t.timeMaxRssMiB ?? t.peakRssMiB} MiB (/usr/bin/time -v), wasm heap ${t.wasmMiB} MiB (DSSR_WASM_MEMORY_MB ${t.wasmPresizeMB}), wall ${t.timeWall ?? "?"}`);
    console.log(JSON.stringify(t));
  } finally {
    if (values.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}
