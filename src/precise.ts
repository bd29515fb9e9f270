/**
 * float64-accurate exp, log, erf (and GELU, softmax, log-softmax built on them).
 *
 * Why: @jax-js/jax 0.1.25's wasm backend computes Exp, Log, Erf and Erfc of float64 arrays by
 * demoting to float32 and back (`callFuncF32` in dist/backend-*.js), so np.exp of a float64 array
 * of 1s is 2.7182817459106445 (relative error 3e-8) under jit or from 128 elements up (smaller eager
 * arrays are evaluated in JS: exp/log exact there, erf a 1e-7 approximation). The float64
 * reference (PyTorch) needs ~1e-12. Add, mul, reciprocal, sqrt, floor, min/max, where and bitcast
 * are IEEE float64 ops, so the functions here are compositions of those; float32 (and other)
 * inputs go to the native ops unchanged.
 *
 * Method (float64 inputs):
 * - exp: k = round(x/ln2), r = x - k·ln2_hi - k·ln2_lo (exact, |r| <= ln2/2), e^r by its Taylor
 *   polynomial of degree 14 (truncation < 1e-17, also for its derivative), times 2^k built exactly:
 *   k = 16q + s, 2^q and 2^s from float32 exponent fields (bitcast), (2^q)^8 by squaring, and
 *   P·2^s·2^(8q)·2^(8q) so that only the last product rounds (also into subnormals / overflow).
 * - log: e ≈ log2(x) from the float32 log of x^(1/16) (in float32 range for every float64), no
 *   gradient; m = x·2^-e exactly, brought into [1/√2, √2); log m = f - s·(f - R(s²)),
 *   f = m - 1, s = f/(2+f), R the atanh series; result e·ln2_hi + (e·ln2_lo + log m).
 * - erf: |x| < 1.5: x·P(x²), P a degree-16 Chebyshev interpolant of erf(√z)/√z on [0, 2.25];
 *   |x| >= 1.5: erf = sign(x)·(1 - erfc|x|), erfc(a) = exp(-a²)/a·P(z)/Q(z), z = 1/a², P/Q an
 *   8/8 rational fit (error 2e-17); exp(-a²) with a² split exactly into hi + lo (Veltkamp).
 *   Coefficients: mpmath at 60 digits (chebyfit; Lawson-weighted rational least squares).
 * - Gradients are those of the compositions (the exponent/branch selections carry none); every
 *   branch of a `where` is evaluated on clamped inputs so the unselected one stays finite.
 * Accuracy measured against Math.exp/Math.log and mpmath, eager and under jit alike: exp 2.2e-16
 * relative (subnormal results within one subnormal step), log 2.2e-16, erf 2.4e-16 (on [-6, 27]);
 * derivatives: exp 3.2e-16, log 8.5e-16, erf 3.2e-15 (cancellation in d/dx[x·P(x²)] near 1.5).
 * Cost per 1e5 elements under jit (one fused kernel): exp ~1.7 ms (native float32-accurate exp
 * ~0.6 ms), log ~5.5 ms, erf and GELU ~6 ms.
 * Ownership follows jax-js: every function consumes its argument. Take gradients under jit:
 * jax-js 0.1.25's eager grad leaks buffers through reciprocal/div (nn.softmax too).
 */
import { isConcrete, jit, np, nn, lax, type Arr } from "./engine.js";

const LN2_HI = 6.93147180369123816490e-1; // ln 2 with 21 trailing zero bits: k·LN2_HI is exact
const LN2_LO = 1.90821492927058770002e-10; // ln 2 - LN2_HI
const SQRT2 = Math.SQRT2;

let exactFloat64 = true;

/**
 * Turn the float64-accurate compositions off (float64 arrays then use the native, float32-accurate
 * transcendentals) or back on; returns the previous setting. For one use: differentiating the whole
 * model in float64, where jax-js 0.1.25 makes the exact compositions too slow to trace (an eager
 * stage-2 gradient took over 10 minutes) — see test/golden/parity.test.ts.
 */
export function setExactFloat64(on: boolean): boolean {
  const was = exactFloat64;
  exactFloat64 = on;
  return was;
}

const isF64 = (x: Arr) => exactFloat64 && x.dtype === np.float64;

/**
 * A float64 scalar constant. Plain JS numbers are not enough: under `jit`, jax-js 0.1.25 turns
 * a number operand into a weakly typed *float32* array, so jit(x => x.mul(0.1)) on float64 gives
 * 0.10000000149011612 (eagerly it gives 0.1). Numbers exact in float32 (0.5, 2, 710) are safe.
 */
const c = (v: number): Arr => np.array(v, { dtype: np.float64 });

/** Horner evaluation, coefficients highest degree first; consumes `v`. */
function horner(v: Arr, coeffs: readonly number[]): Arr {
  let acc = v.ref.mul(c(coeffs[0])).add(c(coeffs[1]));
  for (let i = 2; i < coeffs.length; i++) acc = acc.mul(v.ref).add(c(coeffs[i]));
  v.dispose();
  return acc;
}

/** 2^n exactly as float64, for float64 `n` holding integers in [-126, 127] (float32 exponent field). */
function pow2(n: Arr): Arr {
  const bits = n.astype(np.int32).add(127).mul(1 << 23);
  return lax.bitcastConvertType(bits, np.float32).astype(np.float64);
}

/** [2^s, 2^(8q)] for integer-valued k = 16q + s, |k| <= ~1100; 2^k = 2^s·2^(8q)·2^(8q). */
function pow2Parts(k: Arr): [Arr, Arr] {
  const q = np.floor(k.ref.mul(1 / 16));
  const s = k.sub(q.ref.mul(16));
  const g1 = pow2(q);
  const g2 = g1.ref.mul(g1);
  const g4 = g2.ref.mul(g2);
  return [pow2(s), g4.ref.mul(g4)]; // squaring powers of two is exact
}

const EXP_TAYLOR = Array.from({ length: 15 }, (_, i) => {
  let f = 1;
  for (let j = 2; j <= 14 - i; j++) f *= j;
  return 1 / f;
}); // 1/14!, 1/13!, ..., 1/1!, 1/0!

function exp64(x: Arr): Arr {
  // Beyond [-750, 710] the result is 0 / inf anyway; clamping keeps k small and gradients finite.
  const xc = np.clip(x, -750, 710);
  const k = lax.stopGradient(np.floor(xc.ref.mul(c(Math.LOG2E)).add(0.5)));
  const r = xc.sub(k.ref.mul(c(LN2_HI))).sub(k.ref.mul(c(LN2_LO)));
  const [p2s, g] = pow2Parts(k);
  return horner(r, EXP_TAYLOR).mul(p2s).mul(g.ref).mul(g);
}

// atanh series: 2·atanh(s) = 2s + s·R(s²), R(w) = Σ_{n>=1} 2wⁿ/(2n+1); |s| <= 0.1716 so 11 terms.
const LOG_R = [...Array.from({ length: 11 }, (_, i) => 2 / (23 - 2 * i)), 0];

function log64(x: Arr): Arr {
  const ok = x.ref.greater(0).mul(x.ref.less(Infinity)); // finite and positive
  const xc = np.where(ok.ref, x.ref, 1);
  // Exponent estimate, error < 1e-3: every float64 has its 16th root inside float32's range.
  const root = np.sqrt(np.sqrt(np.sqrt(np.sqrt(lax.stopGradient(xc.ref)))));
  const est = np.log(root.astype(np.float32)).astype(np.float64).mul(c(16 * Math.LOG2E));
  let e = lax.stopGradient(np.floor(est.add(0.5)));
  const [p2s, g] = pow2Parts(e.ref.neg());
  const m = xc.mul(g.ref).mul(g).mul(p2s); // exact: x·2^-e in [0.35, 2.9]
  const hi = lax.stopGradient(m.ref.greaterEqual(c(SQRT2)));
  const lo = lax.stopGradient(m.ref.less(c(1 / SQRT2)));
  e = e.add(hi.ref.astype(np.float64)).sub(lo.ref.astype(np.float64));
  // f = m' - 1 for m' = m/2, 2m or m in [1/√2, √2): exact (Sterbenz). Kept inside the `where`:
  // jit's simplifier rewrites (m + const) + b as (m + b) + const, which would round f - R.
  const f = np.where(hi, m.ref.mul(0.5).sub(1), np.where(lo, m.ref.mul(2).sub(1), m.sub(1)));
  const s = f.ref.div(f.ref.add(2));
  const logm = f.ref.sub(s.ref.mul(f.sub(horner(s.ref.mul(s), LOG_R))));
  const y = e.ref.mul(c(LN2_HI)).add(e.mul(c(LN2_LO)).add(logm));
  const bad = np.where(ok, y, NaN); // x < 0 or NaN
  return np.where(x.ref.equal(0), -Infinity, np.where(x.equal(Infinity), Infinity, bad));
}

// erf(x) = x·ERF_P(x²) for |x| < 1.5.
const ERF_P = [
  5.7576765073143e-16, -2.0228771051208672e-14, 4.1007877897879646e-13, -6.590309159346088e-12,
  9.393394515555037e-11, -1.2285272929100173e-9, 1.480648066710169e-8, -1.6365772583546365e-7,
  1.6462108911940447e-6, -1.4925650054313179e-5, 1.2055332969568869e-4, -8.548327023108964e-4,
  5.2239776254358735e-3, -2.6866170645130544e-2, 0.11283791670955122, -0.37612638903183754,
  1.1283791670955126,
];
// erfc(a) = exp(-a²)/a · ERFC_P(z)/ERFC_Q(z), z = 1/a², for a >= 1.5.
const ERFC_P = [
  15.163251866537154, 561.4186126436915, 2893.4975862571073, 4909.770797858181, 3590.3062100436296,
  1267.0068428746658, 222.3960925657923, 18.40476838416643, 0.5641895835477563,
];
const ERFC_Q = [
  150.47192845084484, 2175.276133248627, 7874.147496284809, 11125.233639411692, 7325.566245758894,
  2427.743761816161, 409.9976119933909, 33.121602597539805, 1.0,
];
const SPLIT = 1.5;

function erf64(x: Arr): Arr {
  const neg = x.ref.less(0);
  const a = np.where(neg.ref, x.ref.neg(), x.ref);
  const small = a.ref.less(SPLIT);
  // |x| < 1.5
  const xs = np.clip(x, -SPLIT, SPLIT);
  const inner = xs.ref.mul(horner(xs.ref.mul(xs), ERF_P));
  // |x| >= 1.5 (erfc is 0 in float64 past 27)
  const ac = np.clip(a, SPLIT, 40);
  const inv = np.reciprocal(ac.ref);
  const z = inv.ref.mul(inv.ref);
  const ratio = horner(z.ref, ERFC_P).div(horner(z, ERFC_Q));
  // a² = sq + err exactly (Veltkamp split into 26-bit halves), exp(-a²) = exp(-sq)·(1 - err).
  const sq = ac.ref.mul(ac.ref);
  const big = ac.ref.mul(c(134217729)); // 2^27 + 1
  const ah = big.ref.sub(big.sub(ac.ref));
  const al = ac.sub(ah.ref);
  const err = lax.stopGradient(
    ah.ref.mul(ah.ref).sub(sq.ref).add(ah.mul(al.ref).mul(2)).add(al.ref.mul(al)),
  );
  const erfc = exp64(sq.neg()).mul(err.neg().add(1)).mul(inv).mul(ratio);
  const outer = erfc.neg().add(1);
  return np.where(small, inner, np.where(neg, outer.ref.neg(), outer));
}

/*
 * Called eagerly on a concrete array (the parity tests), each float64 composition runs as one
 * jitted kernel: one dispatch instead of ~150. Under a trace (jit, grad) the composition is
 * inlined instead: jax-js 0.1.25 differentiates a nested jit of exp64 wrongly (grad of
 * jit(exp64) at 1 gives 4e153), while the inlined composition differentiates correctly.
 */
const exp64j = jit(exp64);
const log64j = jit(log64);
const erf64j = jit(erf64);
const gelu64j = jit((x: Arr) => x.ref.mul(0.5).mul(erf64(x.mul(c(Math.SQRT1_2))).add(1)));
const softmax64j = jit((x: Arr, axis: number) => {
  const xMax = lax.stopGradient(x.ref.max(axis, { keepdims: true }));
  const u = exp64(x.sub(xMax));
  return u.ref.div(u.sum(axis, { keepdims: true }));
}, { staticArgnums: [1] });
const logSoftmax64j = jit((x: Arr, axis: number) => {
  const xMax = lax.stopGradient(x.ref.max(axis, { keepdims: true }));
  const shifted = x.sub(xMax);
  return shifted.ref.sub(log64(exp64(shifted).sum(axis, { keepdims: true })));
}, { staticArgnums: [1] });

/** e^x; float64-accurate for float64 input (≈1 ulp), the native op otherwise. Consumes `x`. */
export function exp(x: Arr): Arr {
  return isF64(x) ? (isConcrete(x) ? exp64j(x) : exp64(x)) : np.exp(x);
}

/** Natural log (NaN for x < 0, -inf at 0); float64-accurate for float64 input. Consumes `x`. */
export function log(x: Arr): Arr {
  return isF64(x) ? (isConcrete(x) ? log64j(x) : log64(x)) : np.log(x);
}

/** The error function; float64-accurate for float64 input. Consumes `x`. */
export function erf(x: Arr): Arr {
  return isF64(x) ? (isConcrete(x) ? erf64j(x) : erf64(x)) : lax.erf(x);
}

/** Exact (erf) GELU, 0.5·x·(1 + erf(x/√2)) as PyTorch computes it. Consumes `x`. */
export function geluExact(x: Arr): Arr {
  if (!isF64(x)) return nn.gelu(x, { approximate: false });
  if (isConcrete(x)) return gelu64j(x);
  return x.ref.mul(0.5).mul(erf64(x.mul(c(Math.SQRT1_2))).add(1));
}

/** Softmax along `axis` (max-subtracted, like torch.softmax). Consumes `x`. */
export function softmax(x: Arr, axis: number = -1): Arr {
  if (!isF64(x)) return nn.softmax(x, axis);
  if (isConcrete(x)) return softmax64j(x, axis);
  const xMax = lax.stopGradient(x.ref.max(axis, { keepdims: true }));
  const u = exp64(x.sub(xMax));
  return u.ref.div(u.sum(axis, { keepdims: true }));
}

/** Log-softmax along `axis`: (x - max) - log Σ exp(x - max), like torch.log_softmax. Consumes `x`. */
export function logSoftmax(x: Arr, axis: number = -1): Arr {
  if (!isF64(x)) return nn.logSoftmax(x, axis);
  if (isConcrete(x)) return logSoftmax64j(x, axis);
  const xMax = lax.stopGradient(x.ref.max(axis, { keepdims: true }));
  const shifted = x.sub(xMax);
  return shifted.ref.sub(log64(exp64(shifted).sum(axis, { keepdims: true })));
}
