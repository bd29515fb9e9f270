/**
 * Progress over the epochs of a run or of a whole table: a bar with an ETA when the output is a
 * terminal (cli-progress, redrawn in place, the epoch lines printed above it), plain lines when it
 * is not (a pipe, a file, a CI log), each epoch line then ending with the same ETA.
 *
 * The ETA is ours, not cli-progress's rate over the last few updates: a stage-2 epoch costs about
 * twice a stage-1 epoch (the specific encoders and MHDW), so a single rate would promise too early
 * an end all through stage 1. We keep the mean seconds per epoch of each stage and multiply by what
 * is left of each, leaving out the first epoch of a stage once a second has run (it also pays for
 * compiling the step); while no stage-2 epoch has run, stage 2 is priced at the stage-1 mean and
 * the ETA is marked as a lower bound (">").
 */
import cliProgress from "cli-progress";
import type { Io } from "./print.js";
import { formatSeconds } from "./print.js";

/** The stream a bar is drawn on: process.stdout, or a stand-in in tests. */
export interface BarStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): boolean;
  cursorTo?: unknown;
}

/** Epochs still to run, per stage. */
export interface EpochPlan {
  stage1: number;
  stage2: number;
}

/** The ETA estimator: mean seconds per epoch of each stage × the epochs left in each. */
export class EpochEta {
  private readonly left: EpochPlan;
  // Per stage: seconds and count of the epochs after the first (which also pays for compiling),
  // and the first epoch's seconds, used alone until a second epoch has run.
  private readonly spent = { 1: 0, 2: 0 };
  private readonly done = { 1: 0, 2: 0 };
  private readonly first: { 1: number | null; 2: number | null } = { 1: null, 2: null };

  /**
   * `parallel`: how many epochs of each stage run at once (`dssr table --jobs`), which divides the
   * time left; the mean epoch times are measured under that load already.
   */
  constructor(
    plan: EpochPlan,
    private readonly parallel: EpochPlan = { stage1: 1, stage2: 1 },
  ) {
    this.left = { ...plan };
  }

  get remaining(): number {
    return this.left.stage1 + this.left.stage2;
  }

  /** Fewer epochs to run than planned (a reused result). */
  drop(plan: Partial<EpochPlan>): void {
    this.left.stage1 = Math.max(0, this.left.stage1 - (plan.stage1 ?? 0));
    this.left.stage2 = Math.max(0, this.left.stage2 - (plan.stage2 ?? 0));
  }

  /** One epoch of `stage` took `seconds`. */
  record(stage: 1 | 2, seconds: number): void {
    const key = stage === 1 ? "stage1" : "stage2";
    this.left[key] = Math.max(0, this.left[key] - 1);
    if (this.first[stage] === null) {
      this.first[stage] = seconds;
      return;
    }
    this.spent[stage] += seconds;
    this.done[stage] += 1;
  }

  private mean(stage: 1 | 2): number | null {
    return this.done[stage] > 0 ? this.spent[stage] / this.done[stage] : this.first[stage];
  }

  /** Seconds left and whether that is only a lower bound; null before the first epoch. */
  estimate(): { seconds: number; lowerBound: boolean } | null {
    const mean1 = this.mean(1);
    const mean2 = this.mean(2);
    if (mean1 === null && mean2 === null) return null;
    const s1 = mean1 ?? mean2!;
    const s2 = mean2 ?? mean1!;
    const seconds = (this.left.stage1 * s1) / this.parallel.stage1 + (this.left.stage2 * s2) / this.parallel.stage2;
    return { seconds, lowerBound: mean2 === null && this.left.stage2 > 0 };
  }

  /** "ETA 12m 30s", "ETA >4m 10s" (a lower bound) or "ETA ?" before any epoch. */
  text(): string {
    const e = this.estimate();
    if (e === null) return "ETA ?";
    return `ETA ${e.lowerBound ? ">" : ""}${formatSeconds(e.seconds)}`;
  }
}

/** Lines and a bar over a planned number of epochs. */
export interface Progress {
  /** Print a line (above the bar on a terminal). */
  line(text: string): void;
  /** An epoch ended: print its line (plain mode: with the ETA appended) and advance. */
  epoch(text: string, stage: 1 | 2, seconds: number): void;
  /** Fewer epochs than planned (a result reused from disk). */
  drop(plan: Partial<EpochPlan>): void;
  /** Remove the bar (the lines stay). */
  stop(): void;
  readonly eta: EpochEta;
}

export interface ProgressOptions {
  /** Where a bar would go; a bar only when `isTTY` is true. Default `io.bar` (none: plain lines). */
  stream?: BarStream;
  /** What the bar counts, e.g. "epochs" or "epochs of 7 runs". */
  label?: string;
  /** Epochs of each stage that run at once (EpochEta); default one of each. */
  parallel?: EpochPlan;
}

/** A progress reporter: a bar on a terminal, plain lines otherwise. */
export function createProgress(io: Io, plan: EpochPlan, opts: ProgressOptions = {}): Progress {
  const stream: BarStream = opts.stream ?? io.bar ?? { isTTY: false, write: () => true };
  const eta = new EpochEta(plan, opts.parallel);
  if (stream.isTTY !== true) {
    return {
      eta,
      line: (t) => io.out(t),
      epoch: (t, stage, seconds) => {
        eta.record(stage, seconds);
        io.out(`${t} | ${eta.remaining === 0 ? "done" : eta.text()}`);
      },
      drop: (p) => eta.drop(p),
      stop: () => {},
    };
  }
  const label = opts.label ?? "epochs";
  const multi = new cliProgress.MultiBar(
    {
      stream: stream as unknown as NodeJS.WritableStream,
      format: `{bar} {value}/{total} ${label} | {eta_text} | elapsed {elapsed}`,
      hideCursor: false, // a Ctrl-C must not leave the terminal without a cursor
      clearOnComplete: true,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  const payload = () => ({ eta_text: eta.text(), elapsed: formatSeconds((performance.now() - started) / 1000) });
  const bar = multi.create(eta.remaining, 0, payload());
  let done = 0;
  // cli-progress prints logged lines at its next redraw, which its timer would schedule; training
  // blocks the event loop, so redraw at once after every change (and nothing waits in the buffer
  // when the bar stops).
  const redraw = () => {
    bar.setTotal(done + eta.remaining);
    bar.update(done, payload());
    multi.update();
  };
  return {
    eta,
    line: (t) => {
      multi.log(t + "\n");
      redraw();
    },
    epoch: (t, stage, seconds) => {
      eta.record(stage, seconds);
      done += 1;
      multi.log(t + "\n");
      redraw();
    },
    drop: (p) => {
      eta.drop(p);
      redraw();
    },
    stop: () => multi.stop(),
  };
}
