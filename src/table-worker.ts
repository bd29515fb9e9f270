/**
 * One task of `dssr table --jobs` (table-jobs.ts), in a child process started by
 * `bin/table-worker.js`: it takes its TaskRequest from the parent, trains, reports every epoch,
 * resume and finished run back over the IPC channel, writes the run's results.json as the serial
 * table does (finishTableRun), and exits.
 */
import { join } from "node:path";
import { resolveTrainConfig } from "./config/resolve.js";
import type { Condition } from "./config/types.js";
import { isDssrError } from "./errors.js";
import { finishRunData, loadRunDataset } from "./run.js";
import { finishTableRun, tableCheckpointDir, tableRunDir } from "./table.js";
import type { TaskMessage, TaskRequest } from "./table-jobs.js";
import { train, trainConditions, type TrainHooks } from "./train/loop.js";

/** Run one task; `send` reports to the parent. */
export async function runTableTask({ plan, task }: TaskRequest, send: (m: TaskMessage) => void): Promise<void> {
  const { seed, fold } = task;
  const runDir = (c: Condition) => tableRunDir(plan.out, c, seed, fold, plan.seedLevel);
  const configFor = (c: Condition, out: string | null) => resolveTrainConfig({ ...plan.train, condition: c, seed, out });
  const first = configFor(task.condition ?? task.groupConditions[0], null);
  const data = finishRunData(loadRunDataset(first, fold ?? undefined), first, fold ?? undefined);
  const hooks: TrainHooks = {
    onEpoch: (record, config) => send({ type: "epoch", record, config }),
    // A condition continuing from the stage 1 its group's stage-1 task has trained (or resumed, and
    // reported) is the mechanism, not a resume: not reported, or the progress would count stage 1
    // off again.
    onResume: (info) => {
      if (task.kind === "condition" && plan.shared && info.stage === 1) return;
      send({ type: "resume", info });
    },
  };
  const finish = (result: Parameters<typeof finishTableRun>[0]) => {
    send({ type: "run", run: finishTableRun(result, configFor(result.config.condition, runDir(result.config.condition)), fold, plan.saveModels) });
  };
  const ckDir = tableCheckpointDir(plan.out, seed, fold, plan.seedLevel);
  if (task.kind === "stage1") {
    // Stage 1 alone: no condition after it; its last checkpoint is the stage switch.
    await trainConditions(first, [], hooks, data, { checkpoints: { dir: ckDir, resume: plan.resume, fold } });
  } else if (plan.shared) {
    await trainConditions(first, [task.condition!], { ...hooks, onResult: finish }, data, {
      checkpoints: { dir: ckDir, resume: plan.resume ? true : "stage1", fold },
    });
  } else {
    const dir = join(runDir(task.condition!), "checkpoints");
    finish(await train(first, hooks, data, { checkpoints: { dir, resume: plan.resume, fold } }));
  }
}

if (process.send !== undefined) {
  const parent = process.ppid;
  const send = (m: TaskMessage) => {
    // The training loop never yields, so a lost IPC channel goes unnoticed; a changed parent pid
    // (re-parented after the table died) is checked synchronously, at every report.
    if (process.ppid !== parent) process.exit(1);
    process.send!(m);
  };
  process.once("message", (req: TaskRequest) => {
    runTableTask(req, send)
      .then(() => send({ type: "done" }))
      .catch((e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        send({
          type: "error", expected: isDssrError(e), name: err.name, message: err.message,
          ...(isDssrError(e) && e.file !== undefined ? { file: e.file } : {}),
          ...(isDssrError(e) ? {} : { stack: err.stack ?? err.message }),
        });
      })
      .finally(() => process.disconnect());
  });
}
