/**
 * The paper's Table 1 workflow (spec §2.5, §2.6, §3): every condition of a dataset (all seven by
 * default), optionally several seeds and, for IEMOCAP, the five leave-one-session-out folds, summed
 * up in the paper's layout once per selection rule (report/table.ts).
 *
 * Two ways to get the runs:
 * - train them: per (fold, seed), stage 1 is trained once and every condition's stage 2 continues
 *   from it (trainConditions; the same numbers as separate runs, for one stage-1 cost), or, with
 *   `shareStage1: false`, each condition is trained on its own (train). With `out`, each run's
 *   results.json is written atomically as soon as that condition finishes, to
 *   `<out>/<condition>[/seed-<seed>][/fold-<fold>]/results.json` (the seed level only when there
 *   are several seeds), so a long table can be stopped and resumed (`resume`).
 * - collect them (`from`): every `results.json` under `<from>/<condition>/` (at any depth up to
 *   three folders), as `dssr train --out` or an earlier table wrote them; the seed, fold and
 *   condition come from each document, not from the folder names.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { configDifferences } from "./config/identity.js";
import { checkTrainInputs, resolveTrainConfig, type TrainOptions } from "./config/resolve.js";
import { CONDITIONS, type Condition, type TrainConfig } from "./config/types.js";
import { sessionOf, taskOf } from "./data/dataset.js";
import { readLabelFile } from "./data/labels.js";
import { tree } from "./engine.js";
import { ConfigError, FileError } from "./errors.js";
import type { EpochRecord } from "./eval/types.js";
import { readResults, writeJsonAtomicSync, writeTextAtomic } from "./report/results.js";
import {
  aggregateTable, formatTable, TABLE_COLUMNS, type Table, type TableFormat, type TableRun,
} from "./report/table.js";
import { MODEL_JSON, saveTrainResultSync } from "./checkpoint/model-file.js";
import { finishRunData, loadRunDataset, prepareOutputFolder, resultsDocument } from "./run.js";
import { runTableJobs, type TableGroup } from "./table-jobs.js";
import { train, trainConditions, type TrainHooks, type TrainOptions as LoopOptions, type TrainResult } from "./train/loop.js";
import { isDirectory } from "./files.js";

export interface TableOptions {
  /**
   * Train the runs: the options every run shares (dataset, dataDir, epochs, …, already layered
   * from preset, config file and flags). `condition` is ignored (see `conditions`); `seed` is the
   * seed when `seeds` is not given; `out` is ignored (see `out` below).
   */
  train?: TrainOptions;
  /** Or collect the runs from `<from>/<condition>/**\/results.json`. Exactly one of train/from. */
  from?: string;
  /** Training: default all seven. Collecting: default every condition found; given, all must be there. */
  conditions?: readonly Condition[];
  /** Training: default [the config's seed]. Collecting: default all found; given, all must be there. */
  seeds?: readonly number[];
  /** IEMOCAP leave-one-session-out folds (held-out sessions). Training: default every session. */
  folds?: readonly number[];
  /** Train stage 1 once per (fold, seed) and share it across conditions (default true). */
  shareStage1?: boolean;
  /**
   * Training: write each run's results.json under this folder as it finishes; both modes write
   * `table.md`, `table.csv` and `table.json` here at the end. Default: nothing written.
   */
  out?: string | null;
  /**
   * Training with `out`: reuse a run whose results.json is already there (its config must match,
   * else a ConfigError) instead of training it again. Default false: such files are replaced.
   */
  resume?: boolean;
  /**
   * Training: run this many runs at once, each in its own process (table-jobs.ts; default 1, all in
   * this process). jax-js computes on one thread, so this is how a table uses several cores. With
   * stage 1 shared, each (fold, seed)'s stage 1 runs first, then its conditions in parallel, each
   * continuing from stage 1's checkpoint (so it needs `out`); the numbers are those of one process.
   */
  jobs?: number;
  /** Training with `out`: also save each run's final model to `<run folder>/model/` (as `dssr train --save-model`). */
  saveModels?: boolean;
  hooks?: TableHooks;
}

export interface TableHooks {
  /** Training: once the data is loaded, before the first run; `config` is the first run's. */
  onStart?: (s: { config: TrainConfig; conditions: Condition[]; seeds: number[]; folds: number[] | null; total: number; shared: boolean }) => void;
  /** Before the runs of one (fold, seed); `shared`: stage 1 is trained once for `conditions`. */
  onGroupStart?: (g: { seed: number; fold: number | null; conditions: Condition[]; shared: boolean; config: TrainConfig }) => void;
  /** When a condition's training starts (its stage 2 when shared); index is 1-based over all runs. */
  onConditionStart?: (c: { condition: Condition; seed: number; fold: number | null; index: number; total: number; shared: boolean; config: TrainConfig }) => void;
  /** `run`: whose epoch it is, given when several runs train at once (`jobs`). */
  onEpoch?: (record: EpochRecord, config: TrainConfig, run?: { seed: number; fold: number | null }) => void;
  /** `resume`: a stage continues from its checkpoint, after `epochsDone` epochs. */
  onResume?: TrainHooks["onResume"];
  /** A run finished (its results.json, if any, already written). */
  onRunEnd?: (run: TableRun) => void;
  /** `resume`: a run whose results.json was already there, reused. */
  onReuse?: (run: TableRun, index: number, total: number) => void;
}

export interface BuildTableResult {
  table: Table;
  /** Runs trained now, and runs read from results.json files (collected or resumed). */
  trained: number;
  reused: number;
  /** table.md, table.csv, table.json under `out`; empty without `out`. */
  written: string[];
  totalSeconds: number;
}

/** The paper's column order, conditions only. */
const PAPER_ORDER: readonly Condition[] = TABLE_COLUMNS.filter((c): c is Condition => c !== "Avg");

/** Train or collect the runs, aggregate them, and write the tables if `out` is set. */
export async function buildTable(opts: TableOptions): Promise<BuildTableResult> {
  const t0 = performance.now();
  if ((opts.train === undefined) === (opts.from === undefined)) {
    throw new ConfigError("a table either trains its runs or collects them (--from); give exactly one");
  }
  if (opts.from !== undefined && (opts.jobs ?? 1) !== 1) throw new ConfigError("--jobs applies to training, not to --from");
  if (opts.from !== undefined && opts.saveModels === true) throw new ConfigError("--save-models applies to training, not to --from");
  checkList("conditions", opts.conditions, (c) => (CONDITIONS as readonly string[]).includes(c));
  checkList("seeds", opts.seeds, (s) => Number.isInteger(s) && s >= 0 && s <= 2 ** 32 - 1);
  checkList("folds", opts.folds, (f) => Number.isInteger(f) && f >= 0 && f <= 9);
  const out = opts.out === undefined || opts.out === null || opts.out === "" ? null : resolve(opts.out);
  let runs: TableRun[];
  let trained = 0;
  let reused = 0;
  if (opts.from !== undefined) {
    runs = await collectRuns(opts.from, opts);
    reused = runs.length;
  } else {
    ({ runs, trained, reused } = await trainRuns(opts.train!, opts, out));
  }
  const table = aggregateTable(runs);
  const written: string[] = [];
  if (out !== null) {
    prepareOutputFolder(out);
    for (const format of ["md", "csv", "json"] as TableFormat[]) {
      const path = join(out, `table.${format}`);
      await writeTextAtomic(path, formatTable(table, format) + "\n");
      written.push(path);
    }
  }
  return { table, trained, reused, written, totalSeconds: (performance.now() - t0) / 1000 };
}

function checkList<T>(name: string, list: readonly T[] | undefined, ok: (x: T) => boolean): void {
  if (list === undefined) return;
  if (list.length === 0) throw new ConfigError(`${name} (--${name}) is an empty list`);
  for (const x of list) if (!ok(x)) throw new ConfigError(`${name} (--${name}): '${String(x)}' is not valid`);
  const dup = list.find((x, i) => list.indexOf(x) !== i);
  if (dup !== undefined) throw new ConfigError(`${name} (--${name}): '${String(dup)}' is listed twice`);
}

/**
 * The folds a table runs: IEMOCAP's held-out sessions (`wanted`, or every session present, from
 * the label file's dialogue ids; spec §1.2), sorted; [null] for a dataset with its own test split.
 */
export function tableFolds(base: TrainConfig, wanted: readonly number[] | undefined): (number | null)[] {
  if (taskOf(base.dataset) !== "classification") return [null];
  const ids = [...readLabelFile(base.labelFile).videoIds.keys()];
  const sessions = [...new Set(ids.map((id) => sessionOf(id, base.labelFile)))].sort((a, b) => a - b);
  const unknown = (wanted ?? sessions).filter((f) => !sessions.includes(f));
  if (unknown.length > 0) {
    throw new ConfigError(`fold ${unknown.join(", ")} is not a session of ${base.labelFile}; sessions present: ${sessions.join(", ")}`);
  }
  return [...(wanted ?? sessions)].sort((a, b) => a - b);
}

/** `<out>/<condition>[/seed-<seed>][/fold-<fold>]`. */
export function tableRunDir(out: string, condition: Condition, seed: number, fold: number | null, seedLevel: boolean): string {
  let dir = join(out, condition);
  if (seedLevel) dir = join(dir, `seed-${seed}`);
  if (fold !== null) dir = join(dir, `fold-${fold}`);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Training

async function trainRuns(
  trainOpts: TrainOptions,
  opts: TableOptions,
  out: string | null,
): Promise<{ runs: TableRun[]; trained: number; reused: number }> {
  const conditions = PAPER_ORDER.filter((c) => (opts.conditions ?? PAPER_ORDER).includes(c));
  const shared = opts.shareStage1 ?? true;
  const hooks = opts.hooks ?? {};
  // Resolve (so validate) every seed's config before reading or training anything.
  const configFor = (condition: Condition, seed: number, dir: string | null): TrainConfig =>
    resolveTrainConfig({ ...trainOpts, condition, seed, out: dir });
  const base = resolveTrainConfig({ ...trainOpts, condition: conditions[0], out: null });
  const seeds = [...(opts.seeds ?? [base.seed])];
  for (const s of seeds) configFor(conditions[0], s, null);
  const task = taskOf(base.dataset);
  if (opts.folds !== undefined && task !== "classification") {
    throw new ConfigError(`folds (--folds) are IEMOCAP's leave-one-session-out protocol; ${base.dataset} has its own test split`);
  }
  if (opts.resume === true && out === null) throw new ConfigError("resume (--resume) needs an output folder (--out)");
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new ConfigError(`jobs (--jobs) must be a whole number ≥ 1, got ${jobs}`);
  if (opts.saveModels === true && out === null) throw new ConfigError("--save-models needs an output folder (--out)");
  if (jobs > 1 && out === null) {
    throw new ConfigError("--jobs needs an output folder (--out): parallel runs report through their results and checkpoints there");
  }
  checkTrainInputs(base);
  if (out !== null) prepareOutputFolder(out);

  const folds = tableFolds(base, opts.folds);

  const seedLevel = seeds.length > 1;
  const total = folds.length * seeds.length * conditions.length;
  hooks.onStart?.({
    config: configFor(conditions[0], seeds[0], null), conditions, seeds,
    folds: folds[0] === null ? null : (folds as number[]), total, shared,
  });
  const runs: TableRun[] = [];
  let index = 0;
  let trained = 0;
  let reused = 0;
  const dirFor = (c: Condition, seed: number, fold: number | null) =>
    out === null ? null : tableRunDir(out, c, seed, fold, seedLevel);
  // Reuse what an earlier, interrupted table left (resume): every file checked before any training,
  // so a mismatch fails now rather than hours in.
  const priors = new Map<string, TableRun>();
  if (opts.resume === true) {
    for (const fold of folds) {
      for (const seed of seeds) {
        for (const c of conditions) {
          const dir = dirFor(c, seed, fold)!;
          const prior = await priorRun(configFor(c, seed, dir), fold);
          // A finished run without its model (an earlier table without --save-models, or killed
          // between the two writes) runs again: it continues from its last checkpoint, so with the
          // checkpoints kept that costs no training, only the model's write.
          if (prior !== null && opts.saveModels === true && !existsSync(join(dir, "model", MODEL_JSON))) continue;
          if (prior !== null) priors.set(`${c}/${seed}/${fold}`, prior);
        }
      }
    }
  }
  if (jobs > 1) {
    // Every run not reused, as tasks for child processes (table-jobs.ts).
    const groups: TableGroup[] = [];
    for (const fold of folds) {
      for (const seed of seeds) {
        const todo: Condition[] = [];
        for (const c of conditions) {
          const prior = priors.get(`${c}/${seed}/${fold}`) ?? null;
          if (prior === null) todo.push(c);
          else {
            runs.push(prior);
            reused++;
            hooks.onReuse?.(prior, ++index, total);
          }
        }
        if (todo.length > 0) groups.push({ seed, fold, conditions: todo });
      }
    }
    const jobRuns = await runTableJobs(
      { train: trainOpts, out: out!, seedLevel, resume: opts.resume === true, shared, saveModels: opts.saveModels === true, groups },
      jobs,
      {
        ...hooks,
        onGroupStart: (g) => hooks.onGroupStart?.({ ...g, shared, config: configFor(g.conditions[0], g.seed, null) }),
        onConditionStart: (c) => hooks.onConditionStart?.({
          ...c, index: ++index, total, shared, config: configFor(c.condition, c.seed, dirFor(c.condition, c.seed, c.fold)),
        }),
      },
    );
    runs.push(...jobRuns);
    return { runs, trained: jobRuns.length, reused };
  }
  for (const fold of folds) {
    // One load per fold; the held-out validation dialogues (IEMOCAP) are drawn per seed below.
    const loaded = priors.size === total ? null : loadRunDataset(base, fold ?? undefined);
    for (const seed of seeds) {
      const dirOf = (c: Condition) => dirFor(c, seed, fold);
      const todo: Condition[] = [];
      for (const c of conditions) {
        const prior = priors.get(`${c}/${seed}/${fold}`) ?? null;
        if (prior === null) {
          todo.push(c);
        } else {
          runs.push(prior);
          reused++;
          hooks.onReuse?.(prior, ++index, total);
        }
      }
      if (todo.length === 0) continue;
      const data = finishRunData(loaded!, configFor(todo[0], seed, null), fold ?? undefined);
      const finish = (result: TrainResult) => {
        const run = finishTableRun(result, configFor(result.config.condition, seed, dirOf(result.config.condition)), fold, opts.saveModels === true);
        runs.push(run);
        trained++;
        hooks.onRunEnd?.(run);
      };
      const startInfo = (condition: Condition) => ({
        condition, seed, fold, index: ++index, total, shared, config: configFor(condition, seed, dirOf(condition)),
      });
      const epochHook = {
        ...(hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {}),
        ...(hooks.onResume ? { onResume: hooks.onResume } : {}),
      };
      // Per-epoch checkpoints beside the results (train/loop.ts): a killed table resumed with
      // `resume` continues its unfinished run from the last epoch instead of starting it over.
      const checkpoints = (dir: string | null): LoopOptions =>
        dir === null ? {} : { checkpoints: { dir, resume: opts.resume === true, fold } };
      if (shared) {
        hooks.onGroupStart?.({ seed, fold, conditions: todo, shared, config: configFor(todo[0], seed, null) });
        await trainConditions(
          configFor(todo[0], seed, null),
          todo,
          { ...epochHook, onCondition: (c) => hooks.onConditionStart?.(startInfo(c)), onResult: finish },
          data,
          checkpoints(out === null ? null : tableCheckpointDir(out, seed, fold, seedLevel)),
        );
      } else {
        hooks.onGroupStart?.({ seed, fold, conditions: todo, shared, config: configFor(todo[0], seed, null) });
        for (const c of todo) {
          hooks.onConditionStart?.(startInfo(c));
          const dir = dirOf(c);
          finish(await train(configFor(c, seed, null), epochHook, data, checkpoints(dir === null ? null : join(dir, "checkpoints"))));
        }
      }
    }
  }
  return { runs, trained, reused };
}

/**
 * A run of the table has finished: write its results.json (when `config.out` names a folder) and
 * release its parameters. `config` is the run's, with its output folder.
 */
export function finishTableRun(
  result: TrainResult, config: TrainConfig, fold: number | null, saveModels = false,
): TableRun {
  let resultsPath: string | null = null;
  if (config.out !== null) {
    prepareOutputFolder(config.out);
    resultsPath = join(config.out, "results.json");
    const extras = fold === null ? {} : { fold };
    // Synchronous writes: this runs inside the training loop, which does not yield until it ends.
    // The model first: a run whose results.json is there is one that `--resume` reuses.
    if (saveModels) saveTrainResultSync(join(config.out, "model"), { ...result, config }, extras);
    // Without --save-models, a model/ left there by an earlier table into the same folder is not
    // this run's: removed, so that nothing (dssr plot case --models) takes it for this run's model.
    else rmSync(join(config.out, "model"), { recursive: true, force: true });
    writeJsonAtomicSync(resultsPath, resultsDocument({ ...result, config }, extras));
  }
  tree.dispose(result.params as never);
  return { condition: config.condition, seed: config.seed, fold, config, selections: result.selections, resultsPath };
}

/**
 * Where a table with stage 1 shared keeps the checkpoints of one seed (and fold): stage 1 and every
 * condition's stage 2 (`stage1/`, `stage2-<condition>/`), under `<out>/checkpoints[/seed-<s>][/fold-<k>]`.
 */
export function tableCheckpointDir(out: string, seed: number, fold: number | null, seedLevel: boolean): string {
  return join(out, "checkpoints", ...(seedLevel ? [`seed-${seed}`] : []), ...(fold === null ? [] : [`fold-${fold}`]));
}

/** The run already in `<config.out>/results.json`, if there is one; a different config is an error. */
async function priorRun(config: TrainConfig, fold: number | null): Promise<TableRun | null> {
  const path = join(config.out!, "results.json");
  if (!existsSync(path)) return null;
  const doc = await readResults(path);
  // The settings a reused results.json must share with the run it stands for (config/identity.ts).
  const differ = configDifferences(doc.config, config);
  if ((doc.fold ?? null) !== fold) differ.push(`fold ${doc.fold ?? "none"} there, ${fold ?? "none"} now`);
  if (differ.length > 0) {
    throw new ConfigError(
      `--resume: ${path} is a different run (${differ.join("; ")}); remove it or choose another --out`,
      path,
    );
  }
  return { condition: config.condition, seed: config.seed, fold, config: doc.config, selections: doc.selections, resultsPath: path };
}

// ---------------------------------------------------------------------------------------------
// Collecting

async function collectRuns(from: string, opts: TableOptions): Promise<TableRun[]> {
  const dir = resolve(from);
  if (!isDirectory(dir)) throw new FileError(`results folder not found: ${dir} (--from)`, dir);
  const runs: TableRun[] = [];
  for (const condition of PAPER_ORDER) {
    const cdir = join(dir, condition);
    if (!isDirectory(cdir)) continue;
    for (const path of findResults(cdir, 3)) {
      const doc = await readResults(path);
      if (doc.config.condition !== condition) {
        throw new ConfigError(
          `${path} is a run of condition ${doc.config.condition} but lies under ${relative(dir, cdir)}/; ` +
            `a table reads <from>/<condition>/…/results.json`,
          path,
        );
      }
      runs.push({
        condition, seed: doc.config.seed, fold: doc.fold ?? null, config: doc.config, selections: doc.selections,
        resultsPath: path,
      });
    }
  }
  if (runs.length === 0) {
    throw new FileError(
      `no results under ${dir}: expected ${dir}/<condition>/results.json for conditions among ${CONDITIONS.join(", ")}`,
      dir,
    );
  }
  const where = (what: string) => `no results for ${what} under ${dir}`;
  for (const c of opts.conditions ?? []) if (!runs.some((r) => r.condition === c)) throw new ConfigError(where(`condition ${c}`));
  for (const s of opts.seeds ?? []) if (!runs.some((r) => r.seed === s)) throw new ConfigError(where(`seed ${s}`));
  for (const f of opts.folds ?? []) if (!runs.some((r) => r.fold === f)) throw new ConfigError(where(`fold ${f}`));
  return runs.filter(
    (r) =>
      (opts.conditions === undefined || opts.conditions.includes(r.condition)) &&
      (opts.seeds === undefined || opts.seeds.includes(r.seed)) &&
      (opts.folds === undefined || (r.fold !== null && opts.folds.includes(r.fold))),
  );
}

/** `results.json` files under `dir`, at most `depth` folders down, sorted. */
function findResults(dir: string, depth: number): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === "results.json") found.push(p);
    else if (e.isDirectory() && depth > 0) found.push(...findResults(p, depth - 1));
  }
  return found;
}

