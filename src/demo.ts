/**
 * The demo: DSSR end to end on a small synthetic CMU-MOSI-like dataset (data/synthetic.ts), under
 * several missing-modality conditions, ending in the paper's condition table (spec §3 layout).
 *
 * It writes the dataset (to a temporary folder unless told where), loads and z-scores it once, then
 * trains one model per condition (spec §2.5: one model per (dataset, condition)) and evaluates it
 * after every epoch. The synthetic data carries the strongest signal in text, a weaker one in audio
 * and the weakest in video, plus an audio·video interaction, so the conditions should differ
 * visibly; with the few epochs a demo can afford, the absolute numbers mean little.
 *
 * The size parameters are options so that the defaults can be tuned to the time budget.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveTrainConfig } from "./config/resolve.js";
import { CONDITIONS, type Condition, type TrainConfig } from "./config/types.js";
import { SYNTHETIC_DATASET, SYNTHETIC_FEATURES, writeSyntheticDataset, type SyntheticSummary } from "./data/synthetic.js";
import { tree } from "./engine.js";
import { ConfigError } from "./errors.js";
import type { EpochRecord, Selections, SelectionRule } from "./eval/types.js";
import { SELECTION_RULES } from "./eval/types.js";
import { formatConditionTable, type ConditionRow } from "./report/format.js";
import { writeJsonAtomic, writeTextAtomic } from "./report/results.js";
import { loadRunData, prepareOutputFolder, resultsDocument } from "./run.js";
import { trainConditions } from "./train/loop.js";

/** The demo's defaults, in one place (see the module comment). */
export const DEMO_DEFAULTS = Object.freeze({
  videos: 100,
  conditions: ["a", "t", "v", "av", "at", "tv", "atv"] as readonly Condition[],
  epochs: 6,
  stageEpoch: 3,
  batchSize: 32,
  hidden: 64,
  heads: 4,
  lr: 1e-3,
  seed: 66,
  dataSeed: 1,
  rule: "validation" as SelectionRule,
});

export interface DemoOptions {
  /** Where to write the synthetic dataset; default a temporary folder, removed at the end. */
  dataDir?: string | null;
  /** Videos in the synthetic dataset (about 10 utterances each; 60 % train, 10 % val, 30 % test). */
  videos?: number;
  /** Conditions to train, one model each; shown in the paper's column order. */
  conditions?: readonly Condition[];
  epochs?: number;
  stageEpoch?: number;
  batchSize?: number;
  /** D_e, the hidden size. */
  hidden?: number;
  heads?: number;
  lr?: number;
  /** Training seed (initialisation, shuffling, dropout). */
  seed?: number;
  /** Seed of the synthetic data. */
  dataSeed?: number;
  /** The selection rule the table shows; default `validation` (the honest one). */
  rule?: SelectionRule;
  /** If set: `<out>/<condition>/results.json` per condition and `<out>/table.md`. */
  out?: string | null;
  hooks?: DemoHooks;
}

export interface DemoHooks {
  onData?: (data: SyntheticSummary, dataDir: string) => void;
  onConditionStart?: (condition: Condition, index: number, total: number, config: TrainConfig) => void;
  onEpoch?: (record: EpochRecord, config: TrainConfig) => void;
  onConditionEnd?: (run: DemoRun) => void;
}

/** One condition's run, without the trained weights (released after each run). */
export interface DemoRun {
  condition: Condition;
  config: TrainConfig;
  history: EpochRecord[];
  selections: Selections;
  compileSeconds: number;
  totalSeconds: number;
  /** Where its results.json went, or null. */
  resultsPath: string | null;
}

export interface DemoResult {
  /** The dataset folder, or null if it was a temporary one and has been removed. */
  dataDir: string | null;
  data: SyntheticSummary;
  runs: DemoRun[];
  rule: SelectionRule;
  /** One row per condition under `rule`, in the paper's column order. */
  rows: ConditionRow[];
  /** formatConditionTable(rows). */
  table: string;
  totalSeconds: number;
}

/** The paper's column order (spec §3). */
const PAPER_ORDER: readonly Condition[] = ["a", "t", "v", "av", "at", "tv", "atv"];

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const d = { ...DEMO_DEFAULTS, ...definedOnly(opts) };
  // Given epochs but no stage epoch: half and half, as every preset of spec §2.5 splits them.
  if (opts.epochs !== undefined && opts.stageEpoch === undefined) d.stageEpoch = Math.floor(opts.epochs / 2);
  const rule = d.rule;
  if (!(SELECTION_RULES as readonly string[]).includes(rule)) {
    throw new ConfigError(`unknown selection rule '${rule}'; expected one of ${SELECTION_RULES.join(", ")}`);
  }
  if (d.conditions.length === 0) throw new ConfigError(`the demo needs at least one condition (${CONDITIONS.join(", ")})`);
  const conditions = PAPER_ORDER.filter((c) => d.conditions.includes(c));
  if (!Number.isInteger(d.videos) || d.videos < 10) {
    throw new ConfigError(`videos (--videos) must be an integer ≥ 10 so every split has videos, got ${d.videos}`);
  }
  // Resolve (and so validate) every condition's config before writing or training anything.
  const temporary = opts.dataDir === undefined || opts.dataDir === null;
  const placeholder = temporary ? join(tmpdir(), "dssr-demo") : opts.dataDir!;
  const configFor = (dataDir: string, condition: Condition, out: string | null): TrainConfig =>
    resolveTrainConfig({
      dataset: SYNTHETIC_DATASET,
      dataDir,
      features: SYNTHETIC_FEATURES,
      condition,
      epochs: d.epochs,
      stageEpoch: d.stageEpoch,
      batchSize: d.batchSize,
      hidden: d.hidden,
      heads: d.heads,
      lr: d.lr,
      seed: d.seed,
      out,
    });
  for (const c of conditions) configFor(placeholder, c, null);
  const out = opts.out ?? null;
  if (out !== null) prepareOutputFolder(out);

  const dataDir = temporary ? mkdtempSync(join(tmpdir(), "dssr-demo-")) : opts.dataDir!;
  try {
    const data = writeSyntheticDataset(dataDir, { seed: d.dataSeed, videos: d.videos });
    d.hooks?.onData?.(data, dataDir);
    // Normalisation is fitted on the training split, which no condition changes: load once.
    const prepared = loadRunData(configFor(dataDir, conditions[0], null));
    const runs: DemoRun[] = [];
    // Stage 1 does not depend on the condition: it is trained once and shared (trainConditions).
    const results = await trainConditions(
      configFor(dataDir, conditions[0], null),
      conditions,
      {
        onCondition: (condition, i) =>
          d.hooks?.onConditionStart?.(condition, i, conditions.length, configFor(dataDir, condition, null)),
        ...(d.hooks?.onEpoch ? { onEpoch: d.hooks.onEpoch } : {}),
      },
      prepared,
    );
    for (const result of results) {
      const condition = result.config.condition;
      const runOut = out === null ? null : join(out, condition);
      const config = configFor(dataDir, condition, runOut);
      tree.dispose(result.params as never);
      let resultsPath: string | null = null;
      if (runOut !== null) {
        prepareOutputFolder(runOut);
        resultsPath = join(runOut, "results.json");
        await writeJsonAtomic(resultsPath, resultsDocument({ ...result, config }));
      }
      const run: DemoRun = {
        condition,
        config,
        history: result.history,
        selections: result.selections,
        compileSeconds: result.compileSeconds,
        totalSeconds: result.totalSeconds,
        resultsPath,
      };
      runs.push(run);
      d.hooks?.onConditionEnd?.(run);
    }
    const rows: ConditionRow[] = runs.map((r) => ({ condition: r.condition, rule, test: r.selections[rule].test }));
    const table = formatConditionTable(rows);
    if (out !== null) await writeTextAtomic(join(out, "table.md"), table + "\n");
    return {
      dataDir: temporary ? null : dataDir,
      data,
      runs,
      rule,
      rows,
      table,
      totalSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (temporary) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Drop keys whose value is undefined, so they do not override the defaults. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
