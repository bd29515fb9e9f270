/**
 * `dssr table --jobs N`: a table's runs in N child processes at once. jax-js computes on one
 * thread, so processes are how a table uses several cores; each has its own wasm heap, too.
 *
 * The work, per (fold, seed) group:
 * - stage 1 shared (the default): one stage-1 task, which trains stage 1 and leaves its
 *   stage-switch checkpoint under the table's checkpoint folder (table.ts, tableCheckpointDir),
 *   then one task per condition, each continuing from that checkpoint (`resume: "stage1"`; a resumed
 *   run is bit-exact, so the numbers are those of one process) and writing its results.json;
 * - not shared: one task per condition, trained whole.
 * Tasks start in order as soon as a process is free and what they need is done, so one group's
 * conditions run beside the next group's stage 1. Every task is a fresh process
 * (`bin/table-worker.js` → table-worker.ts), so nothing a task allocated outlives it. A task that
 * fails stops the table: the others are killed, and the error is the task's own (one line for an
 * expected failure); `--resume` then continues from the checkpoints.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TrainOptions } from "./config/resolve.js";
import type { Condition, TrainConfig } from "./config/types.js";
import { DssrError } from "./errors.js";
import type { EpochRecord } from "./eval/types.js";
import type { TableRun } from "./report/table.js";
import type { TrainHooks } from "./train/loop.js";

/** The conditions of one (fold, seed) still to train. */
export interface TableGroup {
  seed: number;
  fold: number | null;
  conditions: Condition[];
}

/** What every task of a table shares. */
export interface TableJobsPlan {
  /** The table's training options (layered; condition, seed and out are set per run). */
  train: TrainOptions;
  out: string;
  /** The table has several seeds: run folders get a seed level. */
  seedLevel: boolean;
  /** `--resume`: continue stage 1 and stage 2 from their checkpoints where there are some. */
  resume: boolean;
  shared: boolean;
  /** Save each run's final model to `<run folder>/model/`. */
  saveModels: boolean;
  groups: TableGroup[];
}

/** One task: a group's stage 1 (condition null), or one condition's run (its stage 2 when shared). */
export interface TableTask {
  kind: "stage1" | "condition";
  seed: number;
  fold: number | null;
  condition: Condition | null;
  /** The group's conditions (stage 1's config is the first one's; the condition is not part of its identity). */
  groupConditions: Condition[];
}

/** Parent → child: the one task a child runs. */
export interface TaskRequest {
  plan: Omit<TableJobsPlan, "groups">;
  task: TableTask;
}

/** Child → parent. */
export type TaskMessage =
  | { type: "epoch"; record: EpochRecord; config: TrainConfig }
  | { type: "resume"; info: Parameters<NonNullable<TrainHooks["onResume"]>>[0] }
  | { type: "run"; run: TableRun }
  | { type: "error"; expected: boolean; name: string; message: string; file?: string; stack?: string }
  | { type: "done" };

export interface TableJobsHooks {
  onGroupStart?: (g: { seed: number; fold: number | null; conditions: Condition[] }) => void;
  onConditionStart?: (c: { condition: Condition; seed: number; fold: number | null }) => void;
  onEpoch?: (record: EpochRecord, config: TrainConfig, run: { seed: number; fold: number | null }) => void;
  onResume?: TrainHooks["onResume"];
  onRunEnd?: (run: TableRun) => void;
}

/** The tasks of a plan in start order, each with the indices of the tasks it waits for. */
export function planTasks(plan: TableJobsPlan): { task: TableTask; after: number[] }[] {
  const tasks: { task: TableTask; after: number[] }[] = [];
  for (const g of plan.groups) {
    const base = { seed: g.seed, fold: g.fold, groupConditions: g.conditions };
    let after: number[] = [];
    if (plan.shared) {
      tasks.push({ task: { ...base, kind: "stage1", condition: null }, after: [] });
      after = [tasks.length - 1];
    }
    for (const c of g.conditions) tasks.push({ task: { ...base, kind: "condition", condition: c }, after });
  }
  return tasks;
}

const STOP_SIGNALS = ["SIGTERM", "SIGHUP", "SIGINT"] as const;

/**
 * The child's entry: compiled (`npm run build`: dist/src/table-jobs.js beside dist/src/table-worker.js)
 * it is the worker module itself; run from the sources, bin/table-worker.js loads it through tsx.
 */
const WORKER = import.meta.url.endsWith(".js")
  ? fileURLToPath(new URL("./table-worker.js", import.meta.url))
  : fileURLToPath(new URL("../bin/table-worker.js", import.meta.url));

/** Run the plan's tasks in at most `jobs` child processes at once; the runs, in finishing order. */
export function runTableJobs(plan: TableJobsPlan, jobs: number, hooks: TableJobsHooks = {}): Promise<TableRun[]> {
  const { groups: _groups, ...shared } = plan;
  const tasks = planTasks(plan);
  const state: ("waiting" | "running" | "done")[] = tasks.map(() => "waiting");
  const runs: TableRun[] = [];
  const children = new Set<ChildProcess>();
  // The children must not outlive the table: killed when it exits or is told to stop. (A worker
  // also exits by itself when it finds its parent gone, at its next report: table-worker.ts.)
  const killAll = () => {
    for (const c of children) c.kill("SIGKILL");
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    unwatch();
    process.kill(process.pid, signal); // the signal's default action, now that the children are gone
  };
  const unwatch = () => {
    process.off("exit", killAll);
    for (const sig of STOP_SIGNALS) process.off(sig, onSignal);
  };
  process.on("exit", killAll);
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  return new Promise<TableRun[]>((resolve, reject) => {
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      killAll();
      unwatch();
      reject(e);
    };
    const startNext = () => {
      if (failed) return;
      if (state.every((s) => s === "done")) {
        unwatch();
        return resolve(runs);
      }
      while (children.size < jobs) {
        const i = state.findIndex((s, k) => s === "waiting" && tasks[k].after.every((d) => state[d] === "done"));
        if (i === -1) return;
        start(i);
      }
    };
    const start = (i: number) => {
      const { task } = tasks[i];
      state[i] = "running";
      if (task.kind === "stage1") hooks.onGroupStart?.({ seed: task.seed, fold: task.fold, conditions: task.groupConditions });
      else hooks.onConditionStart?.({ condition: task.condition!, seed: task.seed, fold: task.fold });
      const child = fork(WORKER, [], { serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
      children.add(child);
      let done = false;
      child.on("message", (m: TaskMessage) => {
        if (m.type === "epoch") hooks.onEpoch?.(m.record, m.config, { seed: task.seed, fold: task.fold });
        else if (m.type === "resume") hooks.onResume?.(m.info);
        else if (m.type === "run") {
          runs.push(m.run);
          hooks.onRunEnd?.(m.run);
        } else if (m.type === "error") fail(taskError(m));
        else if (m.type === "done") done = true;
      });
      child.on("error", (e) => fail(new DssrError(`a table job (${describeTask(task)}) could not start: ${e.message}`)));
      // "close", not "exit": it comes after the last message over the IPC channel has been read,
      // so a child's final "done" or "error" is never overtaken by its exit.
      child.on("close", (code, signal) => {
        children.delete(child);
        if (!done) {
          fail(new DssrError(
            `the table job for ${describeTask(task)} ended without finishing (${signal ?? `exit code ${code}`}); ` +
              `run the table again with --resume to continue from its checkpoints under ${plan.out}`,
          ));
          return;
        }
        state[i] = "done";
        startNext();
      });
      child.send({ plan: shared, task } satisfies TaskRequest);
    };
    startNext();
  });
}

function describeTask(t: TableTask): string {
  const where = `seed ${t.seed}` + (t.fold === null ? "" : `, fold ${t.fold}`);
  return t.kind === "stage1" ? `stage 1 of ${where}` : `condition ${t.condition}, ${where}`;
}

/** A child's error as the parent's: an expected failure stays one line (a DssrError). */
function taskError(m: Extract<TaskMessage, { type: "error" }>): Error {
  if (m.expected) {
    const e = new DssrError(m.message, m.file);
    e.name = m.name;
    return e;
  }
  const e = new Error(m.message);
  e.name = m.name;
  if (m.stack !== undefined) e.stack = m.stack;
  return e;
}
