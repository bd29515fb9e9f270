/**
 * IEMOCAP's protocol (spec §1.2): 5-fold leave-one-session-out cross-validation. The session
 * is the 5th character of the dialogue id (`Ses03M_impro01` → 3). The label file's own
 * train/test split is not used for these folds.
 */
import { FormatError } from "../errors.js";
import { mulberry32, shuffled } from "./rng.js";
import type { Dataset } from "./types.js";

export interface Fold {
  /** `session1` … `session5`. */
  name: string;
  /** The held-out session. */
  session: number;
  /**
   * Dialogue ids, in label-file order. `val` is empty: the protocol has no validation split
   * (`holdOutValidation` below makes one from the training dialogues).
   */
  train: string[];
  val: string[];
  test: string[];
}

/** The session number of a dialogue id, e.g. `Ses03M_impro01` → 3. */
export function sessionOf(dialogueId: string, file = "<dataset>"): number {
  const c = dialogueId.charAt(4);
  if (!/^[0-9]$/.test(c)) {
    throw new FormatError(
      `dialogue id '${dialogueId}' has no session digit as its 5th character (expected e.g. 'Ses03M_…') in ${file}`,
      file,
    );
  }
  return Number(c);
}

/** One fold per session present (five for IEMOCAP), in session order. */
export function iemocapSessionFolds(dataset: Dataset): Fold[] {
  const ids = [...dataset.videos.keys()];
  const session = new Map(ids.map((id) => [id, sessionOf(id, dataset.sources.labels)]));
  const sessions = [...new Set(session.values())].sort((a, b) => a - b);
  return sessions.map((s) => ({
    name: `session${s}`,
    session: s,
    train: ids.filter((id) => session.get(id) !== s),
    val: [],
    test: ids.filter((id) => session.get(id) === s),
  }));
}

/** The same dataset with other splits (e.g. a fold's), sharing the videos. */
export function withSplits(dataset: Dataset, splits: { train: string[]; val: string[]; test: string[] }): Dataset {
  return { ...dataset, splits: { train: splits.train, val: splits.val, test: splits.test } };
}

/**
 * IEMOCAP has no validation split (spec §1.2, §2.5), so "validation selection" would fall back to
 * the last epoch. This holds out a seeded part of the *training* dialogues instead:
 * - whole dialogues, never test ones: the validation set is a subset of `dataset.splits.train`,
 *   which loses them (the model never trains on them; z-score is fitted without them);
 * - stratified by session: from each session's training dialogues, round(fraction × n) are held
 *   out (at least one where the fraction is positive and the session has two or more), so the
 *   validation set mirrors the mix of sessions the model trains on. Dialogue ids without a session
 *   digit form one stratum;
 * - fixed per (seed, fold): the choice is drawn from mulberry32 seeded with the run's seed and the
 *   held-out session (0 for the label file's own split), so every condition of a (seed, fold)
 *   shares it, a resumed run gets it again, and another seed draws another one.
 * Both splits stay in label-file order. A fraction of 0 returns the dataset as it is.
 */
export function holdOutValidation(
  dataset: Dataset,
  fraction: number | null,
  seed: number,
  fold: number | null = null,
): Dataset {
  if (fraction === null || fraction === 0) return dataset; // null: MOSI/MOSEI, the label file's split
  if (!(Number.isFinite(fraction) && fraction > 0 && fraction < 1)) {
    throw new RangeError(`validation fraction must be in [0, 1), got ${fraction}`);
  }
  if (dataset.splits.val.length > 0) {
    throw new FormatError(
      `the dataset already has a validation split (${dataset.splits.val.length} videos); a held-out fraction applies only where there is none`,
      dataset.sources.labels,
    );
  }
  const picked = validationDialogues(dataset.splits.train, fraction, seed, fold);
  return withSplits(dataset, {
    train: dataset.splits.train.filter((id) => !picked.has(id)),
    val: dataset.splits.train.filter((id) => picked.has(id)),
    test: dataset.splits.test,
  });
}

/** The ids `holdOutValidation` moves from `train` to validation (see there). */
export function validationDialogues(train: readonly string[], fraction: number, seed: number, fold: number | null): Set<string> {
  const strata = new Map<number, string[]>();
  for (const id of train) {
    const c = id.charAt(4);
    const s = /^[0-9]$/.test(c) ? Number(c) : -1;
    if (!strata.has(s)) strata.set(s, []);
    strata.get(s)!.push(id);
  }
  const rng = mulberry32((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((fold ?? 0) + 1, 0x7feb352d) ^ 0x56a1) >>> 0);
  const picked = new Set<string>();
  for (const s of [...strata.keys()].sort((a, b) => a - b)) {
    const ids = strata.get(s)!;
    const n = ids.length < 2 ? 0 : Math.min(ids.length - 1, Math.max(1, Math.round(fraction * ids.length)));
    for (const id of shuffled(ids, rng).slice(0, n)) picked.add(id);
  }
  return picked;
}
