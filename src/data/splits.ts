/**
 * IEMOCAP's protocol (spec §1.2): 5-fold leave-one-session-out cross-validation. The session
 * is the 5th character of the dialogue id (`Ses03M_impro01` → 3). The label file's own
 * train/test split is not used for these folds.
 */
import { FormatError } from "../errors.js";
import type { Dataset } from "./types.js";

export interface Fold {
  /** `session1` … `session5`. */
  name: string;
  /** The held-out session. */
  session: number;
  /** Dialogue ids, in label-file order. `val` is empty: the protocol has no validation split. */
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
