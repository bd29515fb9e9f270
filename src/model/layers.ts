/**
 * Building blocks shared by both stages (spec §2.1): Linear, dropout, the attention layer and
 * a residual stack of them.
 *
 * Ownership (jax-js reference counting, written once here for the whole model): parameter
 * trees are *borrowed* — every use takes `.ref` — and activation arguments are *consumed*.
 */
import { np, random, type Arr } from "../engine.js";
import { geluExact, softmax } from "../precise.js";
import type { AttentionLayer, Linear } from "./params.js";

/** y = x·Wᵀ + b with W in PyTorch's [out, in] layout. */
export function linear(p: Linear, x: Arr): Arr {
  return np.matmul(x, p.w.ref.transpose()).add(p.b.ref);
}

/**
 * Per-forward context: training mode, dropout rate, head count, and the dropout key stream.
 * In eval mode (or p = 0) dropout is the identity and no key is used.
 */
export class ForwardContext {
  private key: Arr | null;
  constructor(
    readonly heads: number,
    readonly dropoutRate: number,
    key: Arr | null,
  ) {
    this.key = dropoutRate > 0 ? key : (key?.dispose(), null);
  }

  get training(): boolean {
    return this.key !== null;
  }

  /** Inverted dropout, as torch.nn.Dropout: keep with 1 − p, scale kept values by 1/(1 − p). */
  dropout(x: Arr): Arr {
    if (this.key === null) return x;
    const [next, sub] = random.split(this.key, 2);
    this.key = next;
    const keep = random.bernoulli(sub, 1 - this.dropoutRate, x.shape);
    return np.where(keep, x.mul(1 / (1 - this.dropoutRate)), 0);
  }

  /** Release the remaining key (call once the forward is done). */
  dispose(): void {
    this.key?.dispose();
    this.key = null;
  }
}

/** x / max(‖x‖₂, 1e-12) along the last axis (torch F.normalize), with a NaN-free gradient at 0. */
export function l2normalize(x: Arr): Arr {
  // sqrt(max(Σx², 1e-24)) = max(‖x‖, 1e-12), but the max sits before the sqrt so that a zero
  // vector's gradient is 0·finite instead of 0·∞.
  const norm = np.sqrt(np.maximum(np.square(x.ref).sum(-1, { keepdims: true }), 1e-24));
  return x.div(norm);
}

/** Zero the positions where mask [B, T] is 0 (x is [B, T, ...]). */
export function zeroInvalid(x: Arr, mask: Arr): Arr {
  const shape = [...mask.shape, ...Array(x.ndim - mask.ndim).fill(1)];
  return x.mul(mask.reshape(shape));
}

/**
 * One attention layer (spec §2.1): multi-head scaled dot product over x [B, T, D] with keys
 * masked by keyMask [B, T]; out = A·V merged back to D; returns out + MLP(out), where
 * MLP = fc1 → GELU(exact) → Dropout → fc2 → Dropout. No LayerNorm, no output projection;
 * the caller adds the residual. A row whose keys are all masked yields zeros.
 */
export function attentionLayer(p: AttentionLayer, x: Arr, keyMask: Arr, ctx: ForwardContext): Arr {
  const [B, T, D] = x.shape;
  const h = ctx.heads;
  const dh = D / h;
  // q, k, v as one [D → 3D] projection (the same sums as three Linear(D, D)): one matmul forward
  // and one for the input's gradient, instead of three plus their sum.
  const wQkv = np.concatenate([p.q.w.ref, p.k.w.ref, p.v.w.ref], 0);
  const bQkv = np.concatenate([p.q.b.ref, p.k.b.ref, p.v.b.ref], 0);
  const qkv = np.matmul(x, wQkv.transpose()).add(bQkv).reshape([B, T, 3, h, dh]).transpose([2, 0, 3, 1, 4]); // [3, B, h, T, dh]
  const [q3, k3, v3] = np.split(qkv, 3, 0);
  const q = q3.reshape([B, h, T, dh]).mul(dh ** -0.5);
  const k = k3.reshape([B, h, T, dh]);
  const v = v3.reshape([B, h, T, dh]);
  const scores = np.matmul(q, k.transpose([0, 1, 3, 2])); // [B, h, T, T]
  const km = keyMask.reshape([B, 1, 1, T]);
  // Masked keys get a score that underflows exp() to exactly 0 (as −inf does in the
  // reference); rows with no valid key are then zeroed instead of becoming NaN.
  const weights = softmax(np.where(km.ref.greater(0), scores, -1e9), -1).mul(km.max(-1, { keepdims: true }));
  const out = np.matmul(weights, v).transpose([0, 2, 1, 3]).reshape([B, T, D]);
  const mlp = ctx.dropout(linear(p.fc2, ctx.dropout(geluExact(linear(p.fc1, out.ref)))));
  return out.add(mlp);
}

/** A residual stack: x ← x + layer_l(x) for each layer (spec §2.1 "callers add the residual"). */
export function attentionStack(layers: AttentionLayer[], x: Arr, keyMask: Arr, ctx: ForwardContext): Arr {
  for (const layer of layers) x = x.ref.add(attentionLayer(layer, x, keyMask.ref, ctx));
  keyMask.dispose();
  return x;
}

