/**
 * The task loss over valid utterances (spec §2.2 step 5, §2.3): masked MSE for regression,
 * masked cross-entropy for classification; N = the number of valid utterances.
 */
import { np, type Arr } from "../engine.js";
import { logSoftmax } from "../precise.js";

/**
 * prediction [B, S, C] (C = 1 for regression), labels [B, S] (class ids as floats for
 * classification), umask [B, S]. Consumes prediction; borrows labels and umask.
 */
export function taskLoss(prediction: Arr, labels: Arr, umask: Arr, nClasses: number): Arr {
  const n = np.maximum(umask.ref.sum(), 1);
  if (nClasses === 1) {
    // Σ (ŷ − y)² / N over valid utterances
    const err = prediction.reshape(labels.shape).sub(labels.ref);
    return np.square(err).mul(umask.ref).sum().div(n);
  }
  // −Σ log softmax(ŷ)[y] / N over valid utterances
  const classes = np.arange(nClasses).astype(prediction.dtype);
  const onehot = labels.ref.reshape([...labels.shape, 1]).equal(classes).astype(prediction.dtype);
  const picked = logSoftmax(prediction, -1).mul(onehot).sum(-1);
  return picked.mul(umask.ref).sum().neg().div(n);
}
