/**
 * Which epoch a run reports (spec §2.5). Three rules, each returned with a sentence saying how the
 * epoch was picked, so that no table is printed without its protocol:
 * - `paper`: the stage-2 epoch with the best TEST F1 (regression) or TEST accuracy/WA
 *   (classification), as the paper and the MoMKE release do (`np.argmax(test_fscores)`, so ties go
 *   to the earliest epoch). It is chosen on the test set, so it is optimistic.
 * - `validation`: the stage-2 epoch with the best VALIDATION F1 / WA, ties to the earliest; where no
 *   epoch has validation metrics (IEMOCAP has no validation split), the last epoch.
 * - `last`: the last epoch.
 * A run with no stage-2 epoch (epochs ≤ stageEpoch) is searched over all its epochs, and the
 * descriptions say so.
 */
import type { EpochRecord, Metrics, Selection, Selections } from "./types.js";

export const PAPER_PROTOCOL =
  "paper protocol: best stage-2 epoch chosen on the test set (optimistic)";

/** One line per rule, for tables that gather many runs (the per-run descriptions add epochs). */
export const RULE_SUMMARY = {
  paper: PAPER_PROTOCOL,
  validation:
    "validation selection: best stage-2 epoch on the validation split " +
    "(the last epoch where there is none)",
  last: "last epoch: no selection",
} as const;

/** The metric the paper selects on: F1 for regression, WA (accuracy) for classification. */
export function selectionScore(m: Metrics): number {
  return m.kind === "regression" ? m.f1 : m.wa;
}

export function selectionMetricName(m: Metrics): string {
  return m.kind === "regression" ? "F1" : "accuracy (WA)";
}

export function selectEpochs(history: readonly EpochRecord[]): Selections {
  if (history.length === 0) throw new RangeError("selectEpochs: empty history");
  const stage2 = history.filter((r) => r.stage === 2);
  const pool = stage2.length > 0 ? stage2 : history;
  const poolText = stage2.length > 0
    ? `stage-2 epochs ${span(pool)}`
    : `all epochs ${span(pool)} (no stage-2 epoch ran)`;
  const last = history[history.length - 1];

  const paperRec = argmaxEarliest(pool, (r) => selectionScore(r.test));
  const paper = pick("paper", paperRec,
    `${PAPER_PROTOCOL}: highest test ${selectionMetricName(last.test)} over ${poolText}, ` +
      `earliest on ties; epoch ${paperRec.epoch + 1}`);

  const withVal = pool.filter((r) => r.val !== null);
  let validation: Selection;
  if (withVal.length > 0) {
    const rec = argmaxEarliest(withVal, (r) => selectionScore(r.val!));
    const valText =
      withVal.length === pool.length ? poolText : `${poolText} that have validation metrics`;
    validation = pick("validation", rec,
      `validation selection: highest validation ${selectionMetricName(rec.val!)} over ${valText}, ` +
        `earliest on ties; epoch ${rec.epoch + 1}`);
  } else {
    validation = pick("validation", last,
      `validation selection: no validation metrics (no validation split), so the last epoch, ` +
        `epoch ${last.epoch + 1}`);
  }

  return {
    paper,
    validation,
    last: pick("last", last, `last epoch: epoch ${last.epoch + 1}, no selection`),
  };
}

function pick(rule: Selection["rule"], r: EpochRecord, description: string): Selection {
  return { rule, description, epoch: r.epoch, test: r.test, val: r.val };
}

/** The first record with the highest score; NaN scores never win (a diverged epoch). */
function argmaxEarliest(
  records: readonly EpochRecord[],
  score: (r: EpochRecord) => number,
): EpochRecord {
  let best = records[0];
  let bestScore = -Infinity;
  for (const r of records) {
    const s = score(r);
    if (s > bestScore) {
      best = r;
      bestScore = s;
    }
  }
  return best;
}

/** "201-400" in people's 1-based numbering, or "7" for one epoch. */
function span(records: readonly EpochRecord[]): string {
  const first = records[0].epoch + 1;
  const lastEpoch = records[records.length - 1].epoch + 1;
  return first === lastEpoch ? `${first}` : `${first}-${lastEpoch}`;
}
